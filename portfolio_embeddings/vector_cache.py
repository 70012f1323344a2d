"""A memory-mapped copy of one model's stored vectors, so that repeated similarity
queries skip reading them all out of the database.

Layout: <root>/<slot>/<fingerprint>/{vectors.npy, norms.npy, keys.arrow}. A slot is one
(table location, table, model_id) and holds at most one copy: writing a new copy
removes the older ones. The fingerprint is that of the rows: their count and the min,
max and sum of created_at. Every dbt run rewrites created_at (to the run's time) for
the keys it writes, and deletes change the count, so a run that changes any vector
changes the fingerprint and the next query writes a new copy; only created_at is
scanned, which keeps the check cheap. A copy is written to a temporary folder and
renamed into place, so a reader never sees half of one.

The whole cache is capped at PORTFOLIO_VECTOR_CACHE_MAX_SIZE (default 4GB; K, M, G and
T are powers of 1024; 0 turns the cache off): after a write, the least recently used
copies of other slots go until the rest fits, and a copy larger than the cap is not
written at all. Where the cache lives: PORTFOLIO_VECTOR_CACHE, else
$XDG_CACHE_HOME/portfolio-embeddings, else ~/.cache/portfolio-embeddings.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather

from portfolio_embeddings.search import Space

SIZE_ENV = "PORTFOLIO_VECTOR_CACHE_MAX_SIZE"
DEFAULT_MAX_SIZE = "4GB"
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_FILES = ("vectors.npy", "norms.npy", "keys.arrow")
_USED = "last-used"  # touched on every read: the least recently used copy goes first


class CacheConfigError(ValueError):
    """A malformed PORTFOLIO_VECTOR_CACHE_MAX_SIZE."""


def cache_root() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "portfolio-embeddings"
    return Path(os.environ.get("PORTFOLIO_VECTOR_CACHE", str(default))).expanduser()


def max_size() -> int:
    """The cap in bytes, from PORTFOLIO_VECTOR_CACHE_MAX_SIZE."""
    return parse_size(os.environ.get(SIZE_ENV, DEFAULT_MAX_SIZE))


def parse_size(text: str) -> int:
    """A size such as 4GB, 1.5G, 200MiB or 0, in bytes (powers of 1024).

    >>> parse_size("1.5G"), parse_size("200MB"), parse_size("0")
    (1610612736, 209715200, 0)
    """
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?", text.strip().upper())
    if not found:
        raise CacheConfigError(
            f"{SIZE_ENV} must be a size such as 4GB, 500MB or 0 (no cache), got {text!r}"
        )
    return int(float(found.group(1)) * _UNITS[found.group(2)])


def slot_name(location: str, table: str, model_id: str) -> str:
    return hashlib.sha256(f"{location}|{table}|{model_id}".encode()).hexdigest()[:32]


def fingerprint(con, table: str, space: Space) -> str:
    stats = con.execute(
        "select count(*), min(created_at), max(created_at), sum(epoch_us(created_at)) "
        f"from {table} where {space.where_sql} and vector is not null",
        [space.model_id],
    ).fetchone()
    return hashlib.sha256(f"{table}|{space.model_id}|{stats}".encode()).hexdigest()[:32]


def cached_vectors(
    con, table: str, space: Space, location: str, load: Callable[[], tuple]
) -> tuple[pa.Array, pa.Array, np.ndarray, np.ndarray]:
    """(ids, dates, vectors, norms) from the cache, or from `load()` (then cached when
    the copy fits under the cap)."""
    root = cache_root()
    slot = root / slot_name(location, table, space.model_id)
    entry = slot / fingerprint(con, table, space)
    try:
        return _read(entry)
    except FileNotFoundError:  # absent, or removed by another process meanwhile
        pass
    ids, dates, vectors = load()
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64))
    keys = pa.table({"entity_id": ids, "as_of_date": dates})
    cap = max_size()
    if vectors.nbytes + norms.nbytes + keys.nbytes <= cap:
        _write(entry, vectors, norms, keys)
        _remove_other_copies(slot, keep=entry)
        _evict(root, cap, keep=entry)
    return ids, dates, vectors, norms


def _read(entry: Path):
    keys = feather.read_table(entry / "keys.arrow", memory_map=True)
    vectors = np.load(entry / "vectors.npy", mmap_mode="r")
    norms = np.load(entry / "norms.npy")
    with contextlib.suppress(OSError):  # a read-only cache still serves
        (entry / _USED).touch()
    return (
        keys.column("entity_id").combine_chunks(),
        keys.column("as_of_date").combine_chunks(),
        vectors,
        norms,
    )


def _write(entry: Path, vectors, norms, keys: pa.Table) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=entry.parent, prefix=".building-"))
    try:
        np.save(staging / "vectors.npy", vectors)
        np.save(staging / "norms.npy", norms)
        feather.write_feather(keys, staging / "keys.arrow", compression="uncompressed")
        (staging / _USED).touch()
        staging.rename(entry)
    except OSError:  # another process built the same copy first, or the disk is full
        shutil.rmtree(staging, ignore_errors=True)


def _remove_other_copies(slot: Path, keep: Path) -> None:
    """The slot's older copies (a mapped file stays readable for whoever has it open)."""
    for other in slot.iterdir():
        if other != keep and not other.name.startswith(".building-"):
            shutil.rmtree(other, ignore_errors=True)


def _copies(root: Path) -> list[tuple[float, int, Path]]:
    """(last used, bytes, folder) of every copy in the cache."""
    found = []
    for entry in root.glob("*/*"):
        if entry.name.startswith(".building-") or not entry.is_dir():
            continue
        try:
            used = (entry / _USED).stat().st_mtime
            size = sum((entry / name).stat().st_size for name in _FILES)
        except FileNotFoundError:
            continue  # being removed
        found.append((used, size, entry))
    return found


def _evict(root: Path, cap: int, keep: Path) -> None:
    """Remove the least recently used copies but `keep` until the cache fits in cap."""
    copies = sorted(_copies(root))
    total = sum(size for _, size, _ in copies)
    for _, size, entry in copies:
        if total <= cap:
            break
        if entry != keep:
            shutil.rmtree(entry, ignore_errors=True)
            with contextlib.suppress(OSError):  # the slot, unless another copy is being built
                entry.parent.rmdir()
            total -= size
