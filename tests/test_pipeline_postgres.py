"""The postgres target against a real PostgreSQL 15 that the tests start on 127.0.0.1:
DuckDB ATTACHes `runtime` (reads the reports) and `historical` (writes the vectors)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import psycopg
import pytest
from conftest import PROJECT_DIR, SMALL_DEMO, DuckDbProject, demo_data
from pg_server import create_platform_databases, load_reports, postgres_server

PLATFORM_DDL = (PROJECT_DIR / "tests" / "fixtures" / "platform_ddl.sql").read_text()
EXTENSIONS = PROJECT_DIR / ".duckdb_extensions"

OTHER_WRITERS = """
insert into numeric_window_embeddings
    (entity_type, entity_id, window_spec, as_of_date, model_id, vector, vector_ref, created_at)
values
    ('INSTRUMENT', 'AAPL', '{"entity_type": "INSTRUMENT", "window_days": 20}', '2025-01-31',
     'num-instrument-v3', '\\x0102', null, '2024-06-01 00:00:00+00'),
    ('PORTFOLIO', 'P00001', '{"entity_type": "PORTFOLIO", "window_days": 1}', '2025-01-31',
     'num-portfolio-experimental', '\\x03', null, '2024-06-01 00:00:00+00'),
    ('PORTFOLIO', 'P00001', '{"entity_type": "PORTFOLIO", "window_days": 1}', '2019-12-31',
     'num-portfolio-core-v1', null, 's3://old/vector', '2024-06-01 00:00:00+00')
"""
ALL_ROWS = "select * from numeric_window_embeddings order by embedding_id"
REBUILD = {"rebuild": True}  # every selected state is re-encoded and rewritten
OTHER_ROWS = (
    "select * from numeric_window_embeddings where entity_type <> 'PORTFOLIO' "
    "or model_id <> 'num-portfolio-core-v1' or as_of_date < '2020-01-01' order by embedding_id"
)


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    """A server with `runtime` (platform DDL + demo reports) and `historical` (platform
    DDL + other writers' rows)."""
    work = tmp_path_factory.mktemp("pg")
    with postgres_server() as server:
        create_platform_databases(server, PLATFORM_DDL)
        source = work / "source.duckdb"
        demo_data.create_reports(str(source), **SMALL_DEMO)
        load_reports(server, source, EXTENSIONS)
        with psycopg.connect(server.url("historical"), autocommit=True) as con:
            con.execute(OTHER_WRITERS)
        server.source_duckdb = source
        server.work = work
        yield server


def pg_env(server, **overrides) -> dict:
    env = {
        "RUNTIME_DATABASE_URL": server.url("runtime"),
        "HISTORICAL_DATABASE_URL": server.url("historical"),
        "PORTFOLIO_DUCKDB_EXTENSION_DIR": str(EXTENSIONS),
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def pg_project(server, name: str) -> DuckDbProject:
    work = server.work / name
    work.mkdir(exist_ok=True)
    return DuckDbProject(db_path=work / "scratch.duckdb", work_dir=work)


def run_pg(server, project, *args, vars=None, **env):
    extra = {"PORTFOLIO_SCRATCH_PATH": str(project.db_path), **pg_env(server, **env)}
    return project.dbt(*args, "--target", "postgres", vars=vars, env=extra)


def historical(server, sql, params=None):
    with psycopg.connect(server.url("historical")) as con:
        return con.execute(sql, params).fetchall()


def batch_tables(project) -> list[str]:
    """Row batches of the shared_table writer left in the scratch file."""
    return [
        name
        for (name,) in project.query("select table_name from duckdb_tables()")
        if "__dbt_" in name
    ]


def test_run_writes_platform_rows_and_matches_the_embedded_target(pg):
    project = pg_project(pg, "main")
    others = historical(pg, OTHER_ROWS)
    result = run_pg(pg, project, "run", "--select", "portfolio_embeddings")
    assert result.ok, result.output
    rows = historical(
        pg,
        "select embedding_id, entity_id, as_of_date::text, jsonb_typeof(window_spec), vector, "
        "created_at from numeric_window_embeddings where model_id = 'num-portfolio-core-v1' "
        "and as_of_date >= '2020-01-01' order by entity_id, as_of_date",
    )
    assert len(rows) > 100
    assert all(r[0] > 3 and r[3] == "object" and len(r[4]) == 1536 for r in rows)
    assert all(np.isfinite(np.frombuffer(r[4], dtype="<f4")).all() for r in rows)
    assert len({r[5] for r in rows}) == 1  # one run, one created_at
    assert historical(pg, OTHER_ROWS) == others
    assert historical(pg, "select count(*) from portfolio_feature_rejects")[0][0] > 0
    assert batch_tables(project) == []  # the (empty) batch is dropped after the commit

    # the same reports through the embedded target give the same bytes
    embedded = DuckDbProject(db_path=pg.work / "embedded.duckdb", work_dir=pg.work / "embedded")
    embedded.work_dir.mkdir(exist_ok=True)
    with duckdb.connect(str(embedded.db_path)) as con:
        con.execute(f"attach '{pg.source_duckdb}' as src (read_only)")
        con.execute("create table main.portfolio_risk_reports as from src.portfolio_risk_reports")
    assert embedded.run().ok
    local = embedded.query(
        "select entity_id, cast(as_of_date as varchar), vector from main.numeric_window_embeddings "
        "order by entity_id, as_of_date"
    )
    assert local == [(r[1], r[2], bytes(r[4])) for r in rows]

    # re-run, --full-refresh included: same keys, same bytes, others untouched
    result = run_pg(pg, project, "run", "--select", "portfolio_embeddings", "--full-refresh")
    assert result.ok, result.output
    again = historical(
        pg,
        "select entity_id, as_of_date::text, vector from numeric_window_embeddings "
        "where model_id = 'num-portfolio-core-v1' and as_of_date >= '2020-01-01' "
        "order by entity_id, as_of_date",
    )
    assert again == [(r[1], r[2], r[4]) for r in rows]
    assert historical(pg, OTHER_ROWS) == others

    joint = historical(
        pg,
        "select entity_scope->>'portfolio_id', as_of_date::text, vector from joint_embeddings "
        "where model_id = 'joint-portfolio-core-v1' order by 1, 2",
    )
    assert joint == [(r[1], r[2], r[4]) for r in rows]  # twice run, never duplicated

    result = run_pg(pg, project, "test", "--select", "portfolio_embeddings")
    assert result.ok, result.output


def test_a_failure_half_way_leaves_the_table_exactly_as_it_was(pg):
    project = pg_project(pg, "fail")
    assert run_pg(pg, project, "run", "--select", "portfolio_embeddings").ok
    before = historical(pg, ALL_ROWS)
    with psycopg.connect(pg.url("historical"), autocommit=True) as con:
        con.execute(
            "alter table numeric_window_embeddings add constraint no_p00020 "
            "check (entity_id <> 'P00020') not valid"
        )
    try:
        # rebuild: every state is written again, P00020's row among them
        result = run_pg(pg, project, "run", "--select", "portfolio_embeddings", vars=REBUILD)
        assert not result.ok
        assert "no_p00020" in result.output
        assert historical(pg, ALL_ROWS) == before  # the delete was rolled back too
    finally:
        with psycopg.connect(pg.url("historical"), autocommit=True) as con:
            con.execute("alter table numeric_window_embeddings drop constraint no_p00020")
    assert run_pg(pg, project, "run", "--select", "portfolio_embeddings").ok
    assert batch_tables(project) == []


def test_a_killed_run_leaves_the_table_exactly_as_it_was(pg):
    project = pg_project(pg, "kill")
    assert run_pg(pg, project, "run", "--select", "portfolio_embeddings").ok
    before = historical(pg, ALL_ROWS)
    with psycopg.connect(pg.url("historical"), autocommit=True) as con:
        con.execute(
            "create function stall() returns trigger language plpgsql as "
            "$$ begin perform pg_sleep(30); return new; end $$;"
            "create trigger stall_insert before insert on numeric_window_embeddings "
            "for each row when (new.entity_id = 'P00020') execute function stall()"
        )
    try:
        extra = {"PORTFOLIO_SCRATCH_PATH": str(project.db_path), **pg_env(pg)}
        process = _start_dbt(project, extra)
        assert _wait_for(
            lambda: (
                historical(
                    pg, "select count(*) from pg_stat_activity where wait_event = 'PgSleep'"
                )[0][0]
                > 0
            )
        ), "the run never reached the insert"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        with psycopg.connect(pg.url("historical"), autocommit=True) as con:
            con.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where wait_event = 'PgSleep'"
            )
        assert _wait_for(
            lambda: (
                historical(
                    pg,
                    "select count(*) from pg_stat_activity where datname = 'historical' "
                    "and state like 'idle in transaction%'",
                )[0][0]
                == 0
            )
        )
        assert historical(pg, ALL_ROWS) == before
    finally:
        with psycopg.connect(pg.url("historical"), autocommit=True) as con:
            con.execute("drop trigger stall_insert on numeric_window_embeddings")
            con.execute("drop function stall()")


def _start_dbt(project, extra_env):
    return project.start(
        "run", "--select", "portfolio_embeddings", "--target", "postgres",
        vars=REBUILD, env=extra_env,
    )  # fmt: skip


def _wait_for(condition, timeout=90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_two_runs_at_once_leave_no_duplicates_and_lose_nothing(pg):
    projects = [pg_project(pg, f"concurrent{i}") for i in range(2)]
    results = [None, None]

    def run(i):
        # rebuild: both runs write every state (an incremental run could find none)
        results[i] = run_pg(
            pg, projects[i], "run", "--select", "portfolio_embeddings", vars=REBUILD
        )

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.ok for r in results), [r.output for r in results]
    duplicates = historical(
        pg,
        "select entity_type, entity_id, as_of_date, model_id from numeric_window_embeddings "
        "group by 1, 2, 3, 4 having count(*) > 1",
    )
    assert duplicates == []
    states = historical(
        pg,
        "select count(*) from numeric_window_embeddings where model_id = 'num-portfolio-core-v1' "
        "and entity_type = 'PORTFOLIO' and as_of_date >= '2020-01-01'",
    )[0][0]
    assert states == len(SMALL_DEMO["dates"]) * SMALL_DEMO["portfolios"] - 1  # one empty report


def test_missing_env_var_fails_before_anything_is_written(pg):
    project = pg_project(pg, "noenv")
    before = historical(pg, ALL_ROWS)
    result = run_pg(
        pg,
        project,
        "run",
        "--select",
        "portfolio_embeddings",
        RUNTIME_DATABASE_URL=None,
        HISTORICAL_DATABASE_URL=None,
    )
    assert not result.ok
    assert "RUNTIME_DATABASE_URL" in result.output
    assert historical(pg, ALL_ROWS) == before


def test_unreachable_database_fails_before_anything_is_written(pg):
    project = pg_project(pg, "unreachable")
    before = historical(pg, ALL_ROWS)
    closed = f"postgresql://postgres:{pg.password}@127.0.0.1:1/runtime"
    result = run_pg(
        pg, project, "run", "--select", "portfolio_embeddings", RUNTIME_DATABASE_URL=closed
    )
    assert not result.ok
    assert "127.0.0.1" in result.output and "port 1" in result.output
    assert historical(pg, ALL_ROWS) == before


def test_credentials_never_reach_logs_or_artifacts(pg):
    project = pg_project(pg, "secrets")
    assert run_pg(pg, project, "run", "--select", "portfolio_embeddings").ok
    closed = f"postgresql://postgres:{pg.password}@127.0.0.1:1/runtime"
    assert not run_pg(
        pg, project, "run", "--select", "portfolio_embeddings", RUNTIME_DATABASE_URL=closed
    ).ok
    leaks = [
        str(path)
        for path in Path(project.work_dir).rglob("*")
        if path.is_file() and path.suffix != ".duckdb" and pg.password.encode() in path.read_bytes()
    ]
    assert leaks == []


JOINT_ROWS = "select * from joint_embeddings order by joint_id"
REJECT_ROWS = "select * from portfolio_feature_rejects order by 1, 2, 3, 4, 5, 6, 7"


def test_a_rerun_with_nothing_changed_changes_no_byte(pg):
    project = pg_project(pg, "rerun")
    assert run_pg(pg, project, "run", "--select", "portfolio_embeddings").ok
    before = [historical(pg, sql) for sql in (ALL_ROWS, JOINT_ROWS, REJECT_ROWS)]
    result = run_pg(pg, project, "run", "--select", "portfolio_embeddings")
    assert result.ok, result.output
    assert [historical(pg, sql) for sql in (ALL_ROWS, JOINT_ROWS, REJECT_ROWS)] == before


def test_a_report_without_usable_features_removes_its_rows_and_only_those(pg):
    """Runs last: it adds a report to the shared runtime database."""
    project = pg_project(pg, "tombstone")
    assert run_pg(pg, project, "run", "--select", "portfolio_embeddings").ok
    last = SMALL_DEMO["dates"][-1]
    numeric_before, joint_before = historical(pg, ALL_ROWS), historical(pg, JOINT_ROWS)
    with psycopg.connect(pg.url("runtime"), autocommit=True) as con:
        con.execute(
            "insert into portfolio_risk_reports select 'R-empty-P00005', portfolio_id, "
            "as_of_date, portfolio_value, cash, net_exposure, gross_exposure, leverage, "
            '\'{"note": "n/a"}\'::jsonb, scenario_pnl, null, null, metadata, '
            "created_at + interval '1 day' from portfolio_risk_reports "
            "where portfolio_id = 'P00005' and as_of_date = %s "
            "order by created_at desc limit 1",
            [last],
        )
    result = run_pg(pg, project, "run", "--select", "portfolio_embeddings")
    assert result.ok, result.output
    gone = ("P00005", dt.date.fromisoformat(last))
    numeric_after = historical(pg, ALL_ROWS)
    assert [r for r in numeric_before if (r[2], r[4]) != gone] == numeric_after
    joint_after = historical(pg, JOINT_ROWS)
    assert [r for r in joint_before if (r[3]["portfolio_id"], r[2]) != gone] == joint_after
    assert len(joint_after) == len(joint_before) - 1
    assert historical(
        pg,
        "select reason from portfolio_feature_rejects where portfolio_id = 'P00005' "
        "and as_of_date = %s order by reason",
        [last],
    ) == [("no_usable_features",), ("string_value",)]
