"""The pipeline on local Spark beside DuckDB, on the same N portfolio states.

    python bench/bench_spark.py                  # 1M portfolios, one date, local[2]
    python bench/bench_spark.py --n 100000 --cores 2

Makes the demo reports once, runs `dbt run --select portfolio_embeddings` on the
embedded DuckDB target, loads the same reports into the local Spark catalog, runs the
same selection on the `spark` target (the same `dbt`: the sparklocal adapter), then a
Spark re-run with nothing new (the fixed cost of an invocation). Prints each
run's seconds, states/s, the peak RSS of its process tree as far as the kernel reports
it to this process, the per-model times dbt logs, and the Spark / DuckDB ratio. Nothing
is asserted: docs/scaling.md quotes these figures.
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

PROJECT_DIR = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).with_name("dbt")


def _demo_data():
    spec = importlib.util.spec_from_file_location("demo_data", PROJECT_DIR / "scripts/demo_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(label: str, command: list[str], env: dict, states: int | None = None) -> float:
    """Run a command, print its time, rate, peak RSS and dbt's per-model lines."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{label} failed:\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    rate = f", {states / seconds:,.0f} states/s" if states else ""
    print(f"{label}: {seconds:.1f} s{rate}, peak RSS so far {peak:.2f} GiB")
    for line in done.stdout.splitlines():
        if " OK created " in line or "Finished running" in line:
            print("    " + line.split("  ", 1)[-1].strip())
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="portfolios (one date each)")
    parser.add_argument("--date", default="2025-01-31")
    parser.add_argument("--cores", default="2", help="Spark's local[cores]")
    parser.add_argument("--workdir", default=None, help="keep the scratch files here")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="pe-bench-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    reports = work / "reports.duckdb"
    if not reports.exists():
        _demo_data().create_reports(str(reports), portfolios=args.n, dates=[args.date], seed=7)
    duck = work / "duck.duckdb"
    duck.write_bytes(reports.read_bytes())
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "PORTFOLIO_DUCKDB_PATH": str(duck),
        "PORTFOLIO_SPARK_DIR": str(work / "spark"),
        "PORTFOLIO_SPARK_CORES": args.cores,
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    print(f"{args.n:,} states, {os.cpu_count()} CPUs, Spark local[{args.cores}], {work}")
    select = ["run", "--select", "portfolio_embeddings", "--vars", json.dumps({"rebuild": True})]
    duck_s = timed("DuckDB dbt run", [str(DBT), *select], env, args.n)
    timed(
        "Spark: load the reports into the catalog",
        [sys.executable, "-m", "portfolio_embeddings.spark_source", "--db", str(reports)],
        env,
    )
    spark_s = timed("Spark dbt run", [str(DBT), *select, "--target", "spark"], env, args.n)
    timed(
        "Spark re-run, nothing new",
        [str(DBT), "run", "--select", "portfolio_embeddings", "--target", "spark"],
        env,
    )
    print(f"Spark / DuckDB: {spark_s / duck_s:.1f}x the time")


if __name__ == "__main__":
    main()
