"""A memory-mapped copy of one model's stored vectors, so that repeated similarity
queries skip reading them all out of the database.

A cache entry is keyed by where the table lives, the model_id, and a fingerprint of the
rows: their count and the min, max and sum of created_at. Every dbt run rewrites
created_at (to the run's time) for the keys it writes and deletes change the count, so
a run that changes any vector changes the fingerprint and the next query rebuilds the
entry; only created_at is scanned, which keeps the check cheap. Entries are written to
a temporary folder and renamed into place, so a reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather


def cache_root() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "portfolio-embeddings"
    return Path(os.environ.get("PORTFOLIO_VECTOR_CACHE", str(default))).expanduser()


def fingerprint(con, table: str, model_id: str, location: str) -> str:
    stats = con.execute(
        "select count(*), min(created_at), max(created_at), sum(epoch_us(created_at)) "
        f"from {table} where entity_type = 'PORTFOLIO' and model_id = ? "
        "and vector is not null",
        [model_id],
    ).fetchone()
    text = f"{location}|{table}|{model_id}|{stats}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cached_vectors(
    con, table: str, model_id: str, location: str, load: Callable[[], tuple]
) -> tuple[pa.Array, pa.Array, np.ndarray, np.ndarray]:
    """(ids, dates, vectors, norms) from the cache, or from `load()` and then cached."""
    entry = cache_root() / fingerprint(con, table, model_id, location)
    if not (entry / "vectors.npy").exists():
        ids, dates, vectors = load()
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=entry.parent, prefix=".building-"))
        np.save(staging / "vectors.npy", vectors)
        norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64))
        np.save(staging / "norms.npy", norms)
        feather.write_feather(
            pa.table({"entity_id": ids, "as_of_date": dates}),
            staging / "keys.arrow",
            compression="uncompressed",
        )
        try:
            staging.rename(entry)
        except OSError:  # another process built the same entry first
            shutil.rmtree(staging, ignore_errors=True)
    keys = feather.read_table(entry / "keys.arrow", memory_map=True)
    vectors = np.load(entry / "vectors.npy", mmap_mode="r")
    norms = np.load(entry / "norms.npy")
    return (
        keys.column("entity_id").combine_chunks(),
        keys.column("as_of_date").combine_chunks(),
        vectors,
        norms,
    )
