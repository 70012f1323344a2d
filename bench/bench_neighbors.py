"""Nearest portfolios over N stored vectors (default 1M): time to load the vectors and
answer one query, in process and through the CLI.

    python bench/bench_neighbors.py [--n 1000000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from portfolio_embeddings.search import load_vectors, nearest

BIN = Path(sys.executable).parent


def make_store(path: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, 384)).astype("<f4")
    table = pa.table(
        {
            "entity_type": pa.array(["PORTFOLIO"] * n),
            "entity_id": pa.array([f"P{i:07d}" for i in range(n)]),
            "as_of_date": pa.array(np.full(n, np.datetime64("2025-01-31", "D"))),
            "model_id": pa.array(["num-portfolio-core-v1"] * n),
            "vector": pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(1536), n, [None, pa.py_buffer(vectors)]
            ),
        }
    )
    with duckdb.connect(str(path)) as con:
        con.register("vectors", table)
        con.execute(
            "create table main.numeric_window_embeddings as select entity_type, entity_id, "
            "as_of_date, model_id, cast(vector as blob) as vector, "
            "timestamptz '2025-02-01 00:00:00+00' as created_at from vectors"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="portfolio-bench-nn-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "vectors.duckdb"
    if not path.exists():
        make_store(path, args.n)

    with duckdb.connect(str(path), read_only=True) as con:
        started = time.perf_counter()
        ids, dates, vectors = load_vectors(
            con, "main.numeric_window_embeddings", "num-portfolio-core-v1", keys_as_numpy=False
        )
        loaded = time.perf_counter()
        top, cosine, _ = nearest(vectors, vectors[12345], 10)
        answered = time.perf_counter()
    print(
        f"{len(ids):,} vectors: load {loaded - started:.2f}s, "
        f"query (matrix product + argpartition) {answered - loaded:.3f}s"
    )
    query_id, query_date = ids[12345].as_py(), dates[12345].as_py()
    assert ids[int(top[0])].as_py() == query_id and abs(cosine[0] - 1) < 1e-6

    env = {**os.environ, "PORTFOLIO_DUCKDB_PATH": str(path),
           "PORTFOLIO_VECTOR_CACHE": str(workdir / "cache")}  # fmt: skip
    shutil.rmtree(workdir / "cache", ignore_errors=True)
    # the numeric card: the bench's store has no joint table
    command = [str(BIN / "portfolio-embeddings"), "neighbors", "--portfolio-id", query_id,
               "--as-of", query_date, "--k", "10",
               "--model-id", "num-portfolio-core-v1"]  # fmt: skip
    for label in ("first query (builds the cache)", "next query (memory-mapped cache)",
                  "next query (memory-mapped cache)"):  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        print(f"CLI end to end, {label}: {time.perf_counter() - started:.2f}s, "
              f"exit {done.returncode}")  # fmt: skip


if __name__ == "__main__":
    main()
