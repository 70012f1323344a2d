"""The numeric model's output rows, built column-wise in Arrow (no dbt needed): the
window_spec it assembles is the JSON DuckDB's json_object writes, for any report_id."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from python_encoders import get_card

MODEL = (
    Path(__file__).resolve().parents[1] / "models/portfolio_embeddings/numeric_window_embeddings.py"
)
REPORT_IDS = [
    "R1",
    'quote"d',
    "back\\slash",
    "tab\there",
    "new\nline",
    "é😀",
    "\x01",
    "it's",
    "\u2028",
]


def load_model_module():
    spec = importlib.util.spec_from_file_location("numeric_window_embeddings", MODEL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_window_spec_is_what_json_object_writes_and_rows_have_the_output_schema():
    model = load_model_module()
    card = get_card("num-portfolio-core-v1")
    con = duckdb.connect()
    con.register("ids", pa.table({"report_id": REPORT_IDS}))
    states = con.sql(
        "select report_id as portfolio_id, date '2025-01-31' as as_of_date, "
        "cast(to_json(report_id) as varchar) as report_id_json from ids"
    ).to_arrow_table()
    n_features = np.arange(len(REPORT_IDS))  # the first state has none: no row
    vectors = np.arange(len(REPORT_IDS) * card.dim, dtype="<f4").reshape(len(REPORT_IDS), -1)
    created_at = con.sql("select current_timestamp").fetchone()[0]

    (batch,) = model._output_batches(states, iter([(0, n_features, vectors)]), card, created_at)

    expected = con.sql(
        f"""
        select cast(json_object(
            'entity_type', 'PORTFOLIO', 'window_days', 1, 'report_id', report_id,
            'model_id', '{card.model_id}', 'encoder_kind', '{card.kind}',
            'encoder_spec_hash', '{card.spec_hash}', 'n_features', n) as varchar)
        from (select unnest($ids) as report_id, unnest($n) as n) where n > 0
        """,
        params={"ids": REPORT_IDS, "n": n_features.tolist()},
    ).fetchall()
    assert batch.schema == model.OUTPUT_SCHEMA
    assert batch.column("window_spec").to_pylist() == [row[0] for row in expected]
    assert [json.loads(s)["report_id"] for s in batch.column("window_spec").to_pylist()] == (
        REPORT_IDS[1:]
    )
    assert batch.column("entity_id").to_pylist() == REPORT_IDS[1:]
    assert batch.column("vector").to_pylist() == [v.tobytes() for v in vectors[1:]]
    assert set(batch.column("created_at").to_pylist()) == {created_at}
    assert batch.column("vector_ref").null_count == batch.num_rows
