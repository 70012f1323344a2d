"""Bad input on the postgres target, where it can exist there: a `json` column keeps
repeated keys as written, a `text` column can hold text that is not JSON, and a table
without the platform's constraints can hold blank ids, shared report_ids and null
created_at. The same rows through the embedded target must give the same vectors, byte
for byte, and the same rejects."""

from __future__ import annotations

import psycopg
import pytest
from conftest import PROJECT_DIR, DuckDbProject, make_project
from pg_server import create_platform_databases, postgres_server
from test_bad_input import COLUMN_TYPES, GOOD, load, report
from test_pipeline_postgres import pg_env

PLATFORM_DDL = (PROJECT_DIR / "tests" / "fixtures" / "platform_ddl.sql").read_text()
# as a team might keep the table: repeated keys kept (json), free text (text), no keys
MESSY_TYPES = {
    **{
        name: "double precision" if kind == "double" else kind
        for name, kind in COLUMN_TYPES.items()
    },
    "risk_metrics": "json",
    "exposures_by_sector": "text",
    "exposures_by_factor": "jsonb",
    "scenario_pnl": "jsonb",
    "metadata": "jsonb",
    "created_at": "timestamptz",
}
PLANTED = [
    report("G07", risk_metrics='{"beta": 1, "beta": 2, "expected_volatility": 0.7}'),
    report("G08", exposures_by_sector='{"Energy": 0.5,'),
    report(" ", "R-blank"),
    report("G03", "R-G03-undated", beta=9.0, created=None),
    report("G09", "R-shared"),
    report("G10", "R-shared"),
    report("G" * 65, "R-long"),
]
EXPECTED_REJECTS = {
    ("G07", "R-G07", "duplicate_key"),
    ("G08", "R-G08", "malformed_json"),
    (" ", "R-blank", "invalid_portfolio_id"),
    ("G09", "R-shared", "duplicate_report_id"),
    ("G10", "R-shared", "duplicate_report_id"),
    ("G" * 65, "R-long", "invalid_portfolio_id"),
}
REJECTS = (
    "select portfolio_id, as_of_date::text, report_id, feature_group, feature_key, "
    "entry_position, raw_value, reason from portfolio_feature_rejects"
)


@pytest.fixture(scope="module")
def messy_pg(tmp_path_factory):
    work = tmp_path_factory.mktemp("pg-bad")
    with postgres_server() as server:
        create_platform_databases(server, PLATFORM_DDL)
        columns = ", ".join(f"{name} {kind}" for name, kind in MESSY_TYPES.items())
        names = list(MESSY_TYPES)
        with psycopg.connect(server.url("runtime"), autocommit=True) as con:
            con.execute("create schema messy")
            con.execute(f"create table messy.portfolio_risk_reports ({columns})")
            with con.cursor() as cur:
                cur.executemany(
                    f"insert into messy.portfolio_risk_reports values "
                    f"({', '.join(['%s'] * len(names))})",
                    [[row.get(name) for name in names] for row in GOOD + PLANTED],
                )
        server.work = work
        yield server


def test_bad_rows_in_postgresql_are_rejected_and_match_the_embedded_target(messy_pg, tmp_path):
    work = messy_pg.work / "run"
    work.mkdir()
    project = DuckDbProject(db_path=work / "scratch.duckdb", work_dir=work)
    env = {
        "PORTFOLIO_SCRATCH_PATH": str(project.db_path),
        "PORTFOLIO_SOURCE_SCHEMA": "messy",
        **pg_env(messy_pg),
    }
    result = project.dbt("run", "--select", "portfolio_embeddings", "--target", "postgres", env=env)
    assert result.ok, result.output

    with psycopg.connect(messy_pg.url("historical")) as con:
        vectors = con.execute(
            "select entity_id, as_of_date::text, vector, window_spec ->> 'n_features' "
            "from numeric_window_embeddings order by entity_id"
        ).fetchall()
        rejects = con.execute(REJECTS).fetchall()
    assert {row[0] for row in vectors} == {f"G0{i}" for i in range(1, 9)}
    assert {(r[0], r[2], r[7]) for r in rejects} >= EXPECTED_REJECTS

    # the same rows, the JSON columns as text, through the embedded target
    embedded = make_project(tmp_path)
    text = {name: "varchar" for name in ("risk_metrics", "exposures_by_sector")}
    load(embedded, GOOD + PLANTED, {**text, "exposures_by_factor": "json"})
    assert embedded.run().ok
    embedded_vectors = embedded.query(
        "select entity_id, cast(as_of_date as varchar), vector, window_spec ->> 'n_features' "
        "from main.numeric_window_embeddings order by entity_id"
    )
    assert [tuple(row) for row in vectors] == [tuple(row) for row in embedded_vectors]
    embedded_rejects = embedded.query(REJECTS.replace("::text", "::varchar"))
    assert sorted(map(tuple, rejects), key=repr) == sorted(map(tuple, embedded_rejects), key=repr)

    # a re-run finds nothing new and changes no reject
    assert project.dbt(
        "run", "--select", "portfolio_embeddings", "--target", "postgres", env=env
    ).ok
    with psycopg.connect(messy_pg.url("historical")) as con:
        assert sorted(map(tuple, con.execute(REJECTS).fetchall()), key=repr) == sorted(
            map(tuple, rejects), key=repr
        )
