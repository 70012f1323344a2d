"""The approach this project replaces, kept only as a yardstick for bench/.

`backfill_numeric_portfolio_embeddings` looped over reports: SELECT, parse the JSON in
Python, build one vector, INSERT it and COMMIT, one row at a time. This is that loop,
against the same DuckDB file and the same encoder (python_encoders'
reference_encode_one, the plain per-portfolio implementation), so that the ratio
bench/ prints measures the shape of the work, not a different encoder.
"""

from __future__ import annotations

import json
import math
import time

import duckdb

from python_encoders import get_card, reference_encode_one

GROUPS = (
    ("risk_metrics", "risk_metrics"),
    ("sector", "exposures_by_sector"),
    ("factor", "exposures_by_factor"),
)

OLD_TABLE_DDL = """
create table if not exists main.old_numeric_window_embeddings (
    entity_type varchar, entity_id varchar, window_spec json, as_of_date date,
    model_id varchar, vector blob, vector_ref varchar, created_at timestamptz
)
"""


def features_of(report: tuple) -> dict[str, float]:
    features = {}
    for (group, _), doc in zip(GROUPS, report, strict=True):
        parsed = json.loads(doc) if doc is not None else None
        if not isinstance(parsed, dict):
            continue
        for key, value in parsed.items():
            if isinstance(value, bool) or (
                isinstance(value, (int, float)) and math.isfinite(float(value))
            ):
                features[f"{group}:{key}"] = float(value)
    return features


def old_row(card, report_id: str, docs: tuple) -> tuple[bytes, str] | None:
    """What the old script built for one report: (vector bytes, window_spec JSON)."""
    features = features_of(docs)
    if not features:
        return None
    vector = reference_encode_one(card, features).astype("<f4").tobytes()
    spec = json.dumps({"entity_type": "PORTFOLIO", "window_days": 1, "report_id": report_id})
    return vector, spec


def insert_one_at_a_time(card, reports, insert_and_commit) -> int:
    """The old script's loop: per report, build the row, then INSERT and COMMIT it
    (`insert_and_commit(portfolio_id, window_spec, as_of_date, vector)`); rows written."""
    written = 0
    for report_id, portfolio_id, as_of_date, *docs in reports:
        row = old_row(card, report_id, tuple(docs))
        if row is None:
            continue
        vector, spec = row
        insert_and_commit(portfolio_id, spec, as_of_date, vector)
        written += 1
    return written


def backfill_row_at_a_time(
    db_path: str, *, limit: int, model_id: str = "num-portfolio-core-v1"
) -> tuple[int, float]:
    """Encode and insert up to `limit` latest reports one at a time; (rows, seconds)."""
    card = get_card(model_id)
    con = duckdb.connect(db_path)
    con.execute(OLD_TABLE_DDL)
    started = time.perf_counter()
    reports = con.execute(
        """
        select report_id, portfolio_id, as_of_date,
               cast(risk_metrics as varchar), cast(exposures_by_sector as varchar),
               cast(exposures_by_factor as varchar)
        from main.portfolio_risk_reports
        qualify row_number() over (
            partition by portfolio_id, as_of_date order by created_at desc, report_id desc) = 1
        order by portfolio_id, as_of_date
        limit ?
        """,
        [limit],
    ).fetchall()

    def insert_and_commit(portfolio_id, spec, as_of_date, vector):
        con.begin()
        con.execute(
            "insert into main.old_numeric_window_embeddings values "
            "('PORTFOLIO', ?, ?, ?, ?, ?, null, current_timestamp)",
            [portfolio_id, spec, as_of_date, model_id, vector],
        )
        con.commit()

    written = insert_one_at_a_time(card, reports, insert_and_commit)
    seconds = time.perf_counter() - started
    con.close()
    return written, seconds
