"""portfolio_embeddings.numeric_rows on its own (no dbt): the output rows built
column-wise in Arrow (window_spec is the JSON DuckDB's json_object writes, for any
report_id), and the slicing of the feature fetch (the same vectors whatever the slice
and chunk sizes)."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_embeddings import numeric_rows
from python_encoders import FeatureBatch, encode, get_card

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


def test_window_spec_is_what_json_object_writes_and_rows_have_the_output_schema():
    card = get_card("num-portfolio-core-v1")
    con = duckdb.connect()
    con.register("ids", pa.table({"report_id": REPORT_IDS}))
    states = con.sql(
        "select report_id as portfolio_id, date '2025-01-31' as as_of_date, "
        "cast(to_json(report_id) as varchar) as report_id_json, md5(report_id) as "
        "source_fingerprint from ids"
    ).to_arrow_table()
    n_features = np.arange(len(REPORT_IDS))  # the first state has none: a tombstone
    vectors = np.arange(len(REPORT_IDS) * card.dim, dtype="<f4").reshape(len(REPORT_IDS), -1)
    created_at = con.sql("select current_timestamp").fetchone()[0]

    (tombstone, batch) = numeric_rows.output_batches(
        states, iter([(0, n_features, vectors)]), card, created_at
    )
    assert tombstone.schema == numeric_rows.OUTPUT_SCHEMA
    assert tombstone.column("entity_id").to_pylist() == REPORT_IDS[:1]
    assert tombstone.column("vector").null_count == tombstone.num_rows == 1

    expected = con.sql(
        f"""
        select cast(json_object(
            'entity_type', 'PORTFOLIO', 'window_days', 1, 'report_id', report_id,
            'source_fingerprint', md5(report_id),
            'model_id', '{card.model_id}', 'encoder_kind', '{card.kind}',
            'encoder_spec_hash', '{card.spec_hash}', 'n_features', n) as varchar)
        from (select unnest($ids) as report_id, unnest($n) as n) where n > 0
        """,
        params={"ids": REPORT_IDS, "n": n_features.tolist()},
    ).fetchall()
    assert batch.schema == numeric_rows.OUTPUT_SCHEMA
    assert batch.column("window_spec").to_pylist() == [row[0] for row in expected]
    assert [json.loads(s)["report_id"] for s in batch.column("window_spec").to_pylist()] == (
        REPORT_IDS[1:]
    )
    assert batch.column("entity_id").to_pylist() == REPORT_IDS[1:]
    assert batch.column("vector").to_pylist() == [v.tobytes() for v in vectors[1:]]
    assert set(batch.column("created_at").to_pylist()) == {created_at}
    assert batch.column("vector_ref").null_count == batch.num_rows


def test_rows_are_the_same_whatever_the_slice_and_chunk_sizes():
    """States fetched in slices and encoded in chunks (uneven sizes, states with no
    feature between them) get the vector of a one-shot encode, under their own key."""
    card = get_card("num-portfolio-core-v1")
    con = duckdb.connect()
    con.execute(
        """
        create table features as
        select state_idx, 'sector:S' || (state_idx * 7 + k) % 5 as feature_name,
               cast((state_idx + 1) * 0.25 + k as double) as feature_value
        from range(23) as s(state_idx), range(3) as f(k)
        where state_idx % 4 <> 1  -- every fourth state has no usable feature
        """
    )
    con.execute(
        "create table states as select state_idx, 'P' || lpad(state_idx::varchar, 3, '0') "
        "as portfolio_id, date '2025-01-31' as as_of_date, 'R' || state_idx as report_id, "
        "md5(state_idx::varchar) as source_fingerprint "
        "from range(23) as s(state_idx)"
    )
    entries = con.sql("select * from features order by state_idx").fetchall()
    expected = encode(
        card,
        FeatureBatch.from_records(
            23, [e[0] for e in entries], [e[1] for e in entries], [e[2] for e in entries]
        ),
    )
    for chunk_rows, states_per_fetch in [(5, 7), (1, 23), (64, 4), (3, 1)]:
        reader = numeric_rows.numeric_embedding_rows(
            con,
            con.table("states"),
            # rejected entries (null value) of a state with features and of one without
            "select * from features union all values (3, 'sector:X', null), (1, 'sector:Y', null)",
            card,
            chunk_rows=chunk_rows,
            states_per_fetch=states_per_fetch,
        )
        table = reader.read_all()
        rows = table.filter(pc.is_valid(table.column("vector")))
        dead = table.filter(pc.is_null(table.column("vector")))
        kept = [i for i in range(23) if i % 4 != 1]
        assert rows.column("entity_id").to_pylist() == [f"P{i:03d}" for i in kept]
        # a state without a usable feature: a tombstone, so that its stale row goes
        assert sorted(dead.column("entity_id").to_pylist()) == [
            f"P{i:03d}" for i in range(23) if i % 4 == 1
        ]
        assert rows.column("vector").to_pylist() == [expected[i].tobytes() for i in kept]
        n_features = [json.loads(s)["n_features"] for s in rows.column("window_spec").to_pylist()]
        assert n_features == [3] * len(kept)
