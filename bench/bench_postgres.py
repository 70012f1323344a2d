"""`bench_pipeline.py --target postgres`: the same measurement against PostgreSQL.

Starts a throwaway PostgreSQL 15 on 127.0.0.1 (tests/pg_server.py), creates `runtime`
and `historical` with the platform's DDL, loads N generated reports into runtime, then
times `dbt run --select portfolio_embeddings --target postgres` (runtime -> historical),
how fast the server alone stores the same rows (a server-side INSERT ... SELECT: the
bound on any client's ratio), and the old loop on the same server: SELECT the reports,
build each vector in Python, INSERT it and COMMIT, one row at a time.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR / "tests"))
sys.path.insert(0, str(PROJECT_DIR / "bench"))

from bench_pipeline import NEW_REPORTS_SQL, _load, time_dbt_run, time_reruns  # noqa: E402
from old_backfill import insert_one_at_a_time  # noqa: E402
from pg_server import create_platform_databases, load_reports, postgres_server  # noqa: E402

from python_encoders import get_card  # noqa: E402

EXTENSIONS = PROJECT_DIR / ".duckdb_extensions"


def old_loop_postgres(runtime_url: str, historical_url: str, limit: int, model_id: str):
    card = get_card(model_id)
    started = time.perf_counter()
    with psycopg.connect(runtime_url) as source, psycopg.connect(historical_url) as target:
        reports = source.execute(
            """
            select distinct on (portfolio_id, as_of_date) report_id, portfolio_id, as_of_date,
                   risk_metrics::text, exposures_by_sector::text, exposures_by_factor::text
            from portfolio_risk_reports
            order by portfolio_id, as_of_date, created_at desc, report_id desc
            limit %s
            """,
            [limit],
        ).fetchall()

        def insert_and_commit(portfolio_id, spec, as_of_date, vector):
            target.execute(
                "insert into numeric_window_embeddings "
                "(entity_type, entity_id, window_spec, as_of_date, model_id, vector) "
                "values ('PORTFOLIO', %s, %s, %s, 'old-loop', %s)",
                [portfolio_id, spec, as_of_date, vector],
            )
            target.commit()

        written = insert_one_at_a_time(card, reports, insert_and_commit)
    return written, time.perf_counter() - started


def server_ingest_rate(historical_url: str, model_id: str) -> tuple[int, float]:
    """How fast the server itself stores this run's rows: one server-side INSERT ...
    SELECT of them into a copy of the table (same constraints, indexes, WAL, fsync at
    commit), no client involved. No client path can beat it, so it bounds the ratio."""
    with psycopg.connect(historical_url) as con:
        con.execute("create table ingest_probe (like numeric_window_embeddings including all)")
        con.commit()
        started = time.perf_counter()
        rows = con.execute(
            "insert into ingest_probe (entity_type, entity_id, window_spec, as_of_date, "
            "model_id, vector, vector_ref) select entity_type, entity_id, window_spec, "
            "as_of_date, model_id, vector, vector_ref from numeric_window_embeddings "
            "where model_id = %s",
            [model_id],
        ).rowcount
        con.commit()
        seconds = time.perf_counter() - started
        con.execute("drop table ingest_probe")
        con.commit()
    return rows, seconds


def settle(server) -> None:
    """Flush what the previous step left to write (loading 1M reports, the run's rows)
    before the next timed step, so that each is timed on its own and neither pays for
    the other's deferred I/O."""
    with psycopg.connect(server.url("historical"), autocommit=True) as con:
        con.execute("checkpoint")


def main(args) -> None:
    demo_data = _load("demo_data", PROJECT_DIR / "scripts" / "demo_data.py")
    ddl = (PROJECT_DIR / "tests" / "fixtures" / "platform_ddl.sql").read_text()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="portfolio-bench-pg-"))
    workdir.mkdir(parents=True, exist_ok=True)
    dates = args.dates.split(",")
    with postgres_server(durable=True) as server:
        create_platform_databases(server, ddl)
        started = time.perf_counter()
        source = workdir / "source.duckdb"
        source.unlink(missing_ok=True)
        demo_data.create_reports(str(source), portfolios=args.n, dates=dates, messy=False)
        load_reports(server, source, EXTENSIONS)
        with psycopg.connect(server.url("runtime"), autocommit=True) as con:
            # as a table that has been there a while: vacuumed and analysed, so that
            # autovacuum does not pick it up during the timed run
            con.execute("vacuum analyze portfolio_risk_reports")
        print(
            f"loaded {args.n:,} portfolios x {len(dates)} date(s) into PostgreSQL runtime "
            f"in {time.perf_counter() - started:.1f}s"
        )

        scratch = workdir / "scratch.duckdb"
        scratch.unlink(missing_ok=True)
        env = {
            **os.environ,
            "RUNTIME_DATABASE_URL": server.url("runtime"),
            "HISTORICAL_DATABASE_URL": server.url("historical"),
            "PORTFOLIO_SCRATCH_PATH": str(scratch),
            "PORTFOLIO_DUCKDB_EXTENSION_DIR": str(EXTENSIONS),
            "DBT_TARGET_PATH": str(workdir / "target"),
            "DBT_LOG_PATH": str(workdir / "logs"),
            "DO_NOT_TRACK": "1",
        }
        states = args.n * len(dates)
        settle(server)
        new_rate = time_dbt_run(
            args, env, states, "dbt pipeline (postgres -> postgres)", "--target", "postgres"
        )
        if not args.no_reruns:

            def add_new_reports():
                with psycopg.connect(server.url("runtime"), autocommit=True) as con:
                    con.execute(NEW_REPORTS_SQL.format(table="portfolio_risk_reports"))
                    con.execute("vacuum analyze portfolio_risk_reports")
                settle(server)

            settle(server)
            time_reruns(args, env, states, new_rate, add_new_reports, "--target", "postgres")

        rows, ingest_seconds = server_ingest_rate(server.url("historical"), args.model_id)
        print(
            f"the server alone (INSERT ... SELECT of these {rows:,} rows, no client): "
            f"{ingest_seconds:.1f}s = {rows / ingest_seconds:,.0f} rows/s"
        )

        settle(server)
        written, old_seconds = old_loop_postgres(
            server.url("runtime"), server.url("historical"), args.old_sample, args.model_id
        )
        old_rate = written / old_seconds
        print(
            f"old row-at-a-time INSERT+COMMIT loop on the same server: {written:,} rows in "
            f"{old_seconds:.1f}s = {old_rate:,.0f} portfolios/s (sample; the full {states:,} "
            f"would take ~{math.ceil(states / old_rate / 60)} min)"
        )
        print(
            f"ratio: {new_rate / old_rate:,.1f}x (the server's own ingest rate bounds any "
            f"client at {rows / ingest_seconds / old_rate:,.1f}x)"
        )
