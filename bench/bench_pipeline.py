"""Throughput and peak memory of `dbt run --select portfolio_embeddings` on N
portfolios, against the old one-row-at-a-time backfill on the same data and file.

    python bench/bench_pipeline.py                 # 100k portfolios, one date
    python bench/bench_pipeline.py --n 1000000     # the 1M target
    python bench/bench_pipeline.py --target postgres [--n ...]
                   # PostgreSQL runtime -> historical, on a server bench/ starts itself

Prints portfolios/s and the peak RSS of the dbt process (the max RSS of the child),
then the old approach's rate over a sample (--old-sample reports; it runs at about a
thousand rows a second, so the full N would take hours) and the ratio. Nothing here
is asserted: these are measurements for the README and the issue notes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).with_name("dbt")


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_child(command: list[str], env: dict) -> tuple[float, float, str]:
    """Run a command; (seconds, peak RSS of the command in GiB, output)."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{done.stdout}\n{done.stderr}")
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return seconds, peak_gib, done.stdout


def time_dbt_run(args, env: dict, states: int, label: str, *target: str) -> float:
    """Run `dbt run --select portfolio_embeddings` once, print its timing; portfolios/s."""
    exclude = ["--exclude", *args.exclude] if args.exclude else []
    command = [str(DBT), "run", "--select", "portfolio_embeddings", *exclude, *target,
               "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR),
               "--vars", json.dumps({"model_id": args.model_id})]  # fmt: skip
    seconds, peak_gib, output = run_child(command, env)
    for line in output.splitlines():
        if " OK " in line or "Finished running" in line:
            print("  dbt |", line.split("  ", 1)[-1].strip())
    rate = states / seconds
    print(
        f"{label}: {states:,} portfolio states in {seconds:.1f}s = "
        f"{rate:,.0f} portfolios/s, peak RSS {peak_gib:.2f} GiB"
    )
    return rate


# (c): every 100th portfolio gets a newer report for each of its dates (1% of the states)
NEW_REPORTS_SQL = """
insert into {table}
select 'N-' || report_id, portfolio_id, as_of_date, portfolio_value, cash, net_exposure,
       gross_exposure, leverage, risk_metrics, scenario_pnl, exposures_by_sector,
       exposures_by_factor, metadata, created_at + interval '1 day'
from {table}
where right(portfolio_id, 2) = '00'
"""


def time_reruns(args, env, states: int, first_rate: float, add_new_reports, *target) -> None:
    """The daily-run scenarios after a first run (a): (b) a re-run with nothing changed,
    (c) a re-run after 1% of the states got a new report; each with its ratio to (a)."""
    first = states / first_rate
    nothing = states / time_dbt_run(args, env, states, "(b) re-run, nothing changed", *target)
    add_new_reports()
    changed = states / time_dbt_run(args, env, states, "(c) re-run, 1% new reports", *target)
    print(
        f"daily runs: (a) {first:.1f}s, (b) {nothing:.1f}s = {nothing / first:.0%} of (a), "
        f"(c) {changed:.1f}s = {changed / first:.0%} of (a)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="portfolios (default 100000)")
    parser.add_argument("--dates", default="2025-01-31", help="comma-separated as_of dates")
    parser.add_argument("--old-sample", type=int, default=20_000, help="reports for the old loop")
    parser.add_argument("--workdir", default=None, help="keep the scratch files here")
    parser.add_argument("--model-id", default="num-portfolio-core-v1")
    parser.add_argument("--target", choices=("dev", "postgres"), default="dev")
    parser.add_argument(
        "--exclude", nargs="*", help="models to leave out, e.g. joint_embeddings (numeric only)"
    )
    parser.add_argument(
        "--no-reruns", action="store_true", help="skip the re-run scenarios (b) and (c)"
    )
    args = parser.parse_args()
    if args.target == "postgres":
        from bench_postgres import main as postgres_main

        postgres_main(args)
        return

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="portfolio-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "bench.duckdb"
    for stale in (db_path, Path(f"{db_path}.wal")):
        stale.unlink(missing_ok=True)
    dates = args.dates.split(",")

    demo_data = _load("demo_data", PROJECT_DIR / "scripts" / "demo_data.py")
    started = time.perf_counter()
    demo_data.create_reports(str(db_path), portfolios=args.n, dates=dates, seed=7, messy=False)
    print(
        f"generated {args.n:,} portfolios x {len(dates)} date(s) "
        f"in {time.perf_counter() - started:.1f}s -> {db_path}"
    )

    env = {
        **os.environ,
        "PORTFOLIO_DUCKDB_PATH": str(db_path),
        "DBT_TARGET_PATH": str(workdir / "target"),
        "DBT_LOG_PATH": str(workdir / "logs"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    states = args.n * len(dates)
    new_rate = time_dbt_run(args, env, states, "dbt pipeline")
    if not args.no_reruns:

        def add_new_reports():
            with duckdb.connect(str(db_path)) as con:
                con.execute(NEW_REPORTS_SQL.format(table="main.portfolio_risk_reports"))

        time_reruns(args, env, states, new_rate, add_new_reports)

    old_bench = (
        "import sys, json; sys.path.insert(0, 'bench');"
        "from old_backfill import backfill_row_at_a_time as b;"
        f"print(json.dumps(b({str(db_path)!r}, limit={args.old_sample}, "
        f"model_id={args.model_id!r})))"
    )
    _, _, old_out = run_child([sys.executable, "-c", old_bench], env)
    written, old_seconds = json.loads(old_out.strip().splitlines()[-1])
    old_rate = written / old_seconds
    print(
        f"old row-at-a-time loop: {written:,} rows in {old_seconds:.1f}s = "
        f"{old_rate:,.0f} portfolios/s (sample; the full {states:,} would take "
        f"~{states / old_rate / 60:.0f} min)"
    )
    print(f"ratio: {new_rate / old_rate:,.1f}x")


if __name__ == "__main__":
    main()
