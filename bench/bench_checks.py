"""What the bad-input checks cost: a first run of `dbt run --select portfolio_embeddings`
on the same N-portfolio source, this checkout against an earlier commit, alternately.

    python bench/bench_checks.py                        # 1M portfolios, against 92c5bc4
    python bench/bench_checks.py --n 200000 --rounds 3 --baseline <commit>

The baseline is checked out with `git worktree` into the work folder (removed at the
end). Each round copies the generated source file afresh for each side and prints the
wall time, the CPU seconds and peak RSS of the dbt process, and every model's time from
run_results.json. CPU time moves less than wall time when the machine is shared. Models
that only one side has (the analytics marts of a later commit) are printed, not summed:
the `shared` total is over the models both sides run. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_pipeline import DBT, PROJECT_DIR, _load

# the commit before the bad-input checks (issue 12)
BEFORE_CHECKS = "92c5bc4"


def run_side(project: Path, source: Path, workdir: Path, side: str) -> dict:
    """One first run of `project` on a fresh copy of `source`: timings."""
    folder = workdir / "runs" / side
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    db_path = folder / "bench.duckdb"
    shutil.copy(source, db_path)
    env = {
        **os.environ,
        "PYTHONPATH": str(project),
        "PORTFOLIO_DUCKDB_PATH": str(db_path),
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "logs"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [str(DBT), "run", "--select", "portfolio_embeddings",
               "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(project)]  # fmt: skip
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)  # fmt: skip
    output = child.stdout.read()
    # this child's own CPU and peak RSS (RUSAGE_CHILDREN would mix in the other side's)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        sys.exit(f"{side} failed:\n{output[-6000:]}")
    results = json.loads((folder / "target" / "run_results.json").read_text())
    models = {
        r["unique_id"].split(".")[-1]: r["execution_time"]
        for r in results["results"]
        if r["unique_id"].startswith("model.")
    }
    return {"wall": seconds, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_gib": usage.ru_maxrss / 2**20, "models": models}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="portfolios, one date")
    parser.add_argument("--baseline", default=BEFORE_CHECKS, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", default=None, help="keep the scratch files here")
    args = parser.parse_args()

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="portfolio-bench-checks-"))
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "source.duckdb"
    if not source.exists():
        demo_data = _load("demo_data", PROJECT_DIR / "scripts" / "demo_data.py")
        demo_data.create_reports(
            str(source), portfolios=args.n, dates=["2025-01-31"], seed=7, messy=False
        )
    baseline = workdir / "baseline"
    if not baseline.exists():
        subprocess.run(["git", "-C", str(PROJECT_DIR), "worktree", "add", "--detach",
                        str(baseline), args.baseline], check=True, capture_output=True)  # fmt: skip
        # the DuckDB extensions the profile loads, from this checkout
        (baseline / ".duckdb_extensions").symlink_to(PROJECT_DIR / ".duckdb_extensions")
    try:
        sides = {"baseline": baseline, "this": PROJECT_DIR}
        for round_no in range(1, args.rounds + 1):
            timings = {side: run_side(path, source, workdir, side) for side, path in sides.items()}
            shared = set.intersection(*(set(t["models"]) for t in timings.values()))
            for side, t in timings.items():
                models = " ".join(f"{m}={s:.1f}" for m, s in t["models"].items() if s >= 0.05)
                print(
                    f"round {round_no} {side:8s} wall={t['wall']:.1f}s cpu={t['cpu']:.1f}s "
                    f"shared={sum(t['models'][m] for m in shared):.1f}s "
                    f"rss={t['rss_gib']:.2f}GiB {models}",
                    flush=True,
                )
    finally:
        subprocess.run(["git", "-C", str(PROJECT_DIR), "worktree", "remove", "--force",
                        str(baseline)], capture_output=True)  # fmt: skip


if __name__ == "__main__":
    main()
