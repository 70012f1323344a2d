"""Encoders: FeatureBatch -> float32 vectors, vectorised over all portfolio states.

keyed_projection (num-portfolio-core-v1)
    z = sum over a state's features of t(value) * w(name). Each feature name has a fixed
    direction w(name) in R^dim whose entries are +-1/sqrt(dim), the signs taken from the
    SHA-256 bits of (seed, name): a Rademacher / Achlioptas random projection, as in
    scikit-learn's random_projection, but keyed by the name instead of drawn from an RNG
    stream, so that
      - feature order does not matter and a missing key simply has no term;
      - a new feature name anywhere changes no existing vector (no shared vocabulary);
      - the directions cannot change with a numpy release;
      - distances between states are approximately preserved (Johnson-Lindenstrauss).
    Accumulation is in float64 and the result is cast once to float32: summation-order
    differences (BLAS, chunking) stay far below float32 resolution.

pad_to_dim (num-portfolio-pad-v0)
    The old backfill script's vector: raw values of risk_metrics, then sector, then
    factor, each group in sorted-key order, float32, zero-padded or truncated to dim.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from .batch import FEATURE_GROUPS, FeatureBatch, split_name
from .cards import ModelCard
from .transforms import TRANSFORMS

DEFAULT_CHUNK_ROWS = 65_536
# Largest float64 design matrix built in one piece (1M states x 128 names).
DENSE_BUDGET_BYTES = 1 << 30


def feature_directions(card: ModelCard, names: Sequence[str]) -> np.ndarray:
    """w(name) for each name, shape (len(names), card.dim), entries +-1/sqrt(dim).

    Bits come from sha256(f"{seed}\\x1f{name}\\x1f{block}") for block = 0, 1, ...
    concatenated, little-endian bit order; bit 1 means -1. One hash per name and
    256 dimensions: a loop over the vocabulary (hundreds of names), never over entries.
    """
    n_blocks = -(-card.dim // 256)
    digests = b"".join(
        hashlib.sha256(f"{card.seed}\x1f{name}\x1f{block}".encode()).digest()
        for name in names
        for block in range(n_blocks)
    )
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8), bitorder="little")
    bits = bits.reshape(len(names), n_blocks * 256)[:, : card.dim]
    return (1.0 - 2.0 * bits) / np.sqrt(card.dim)


def as_le_float32(vectors: np.ndarray) -> np.ndarray:
    """C-contiguous little-endian float32, the byte layout stored in `vector`."""
    return np.ascontiguousarray(vectors, dtype="<f4")


def encode(
    card: ModelCard, batch: FeatureBatch, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> np.ndarray:
    """Vectors of all states of `batch`, shape (n_rows, dim), little-endian float32.

    A state with no entries gets the zero vector; callers decide whether to store it.
    """
    out = np.zeros((batch.n_rows, card.dim), dtype="<f4")
    for start, stop, vectors in iter_encode(card, batch, chunk_rows=chunk_rows):
        out[start:stop] = vectors
    return out


def iter_encode(
    card: ModelCard, batch: FeatureBatch, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Like `encode`, one chunk of states at a time: (first row, end row, vectors).

    For streaming writers: all vectors never exist at once. The work that needs the
    per-entry arrays happens before the first chunk is yielded, so a caller that holds
    no other reference to the batch lets them be freed early.
    """
    if card.kind == "keyed_projection":
        return _keyed_projection(card, batch, chunk_rows)
    if card.kind == "pad_to_dim":
        vectors = _pad_to_dim(card, batch)
        return (
            (start, min(start + chunk_rows, batch.n_rows), vectors[start : start + chunk_rows])
            for start in range(0, batch.n_rows, chunk_rows)
        )
    raise ValueError(f"card {card.model_id!r} has unknown kind {card.kind!r}")


def _row_chunks(batch: FeatureBatch, chunk_rows: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """(first row, end row, indices of its entries) per chunk of chunk_rows states.

    Entries arrive in any order (DuckDB unnests in parallel). Sorting them by chunk
    number, a small integer, is a linear-time radix sort in numpy; a full sort by row
    would cost several times more and is not needed.
    """
    n_chunks = max(1, -(-batch.n_rows // chunk_rows))
    chunk_of = batch.row_index // chunk_rows
    chunk_of = chunk_of.astype(np.uint16 if n_chunks <= np.iinfo(np.uint16).max else np.int64)
    order = np.argsort(chunk_of, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(chunk_of, minlength=n_chunks))])
    for chunk in range(n_chunks):
        start = chunk * chunk_rows
        yield start, min(start + chunk_rows, batch.n_rows), order[bounds[chunk] : bounds[chunk + 1]]


def _keyed_projection(
    card: ModelCard, batch: FeatureBatch, chunk_rows: int
) -> Iterator[tuple[int, int, np.ndarray]]:
    directions = feature_directions(card, batch.names)  # (V, dim) float64
    n_rows, n_names = batch.n_rows, len(batch.names)
    # The design matrix X (states x names) holds each state's transformed values;
    # duplicate (state, name) entries add up, which keeps the encoder linear.
    # Z = X @ W runs chunk by chunk, so float64 Z never exists for all states at once.
    if n_rows * n_names * 8 <= DENSE_BUDGET_BYTES:
        # X fits: one bincount over all entries, no sort at all.
        cell = batch.row_index.astype(np.int64) * n_names + batch.name_codes
        design = np.bincount(
            cell, weights=TRANSFORMS[card.transform](batch.values), minlength=n_rows * n_names
        ).reshape(n_rows, n_names)
        del cell, batch  # the per-entry arrays are no longer needed here
        for start in range(0, n_rows, chunk_rows):
            stop = min(start + chunk_rows, n_rows)
            yield start, stop, (design[start:stop] @ directions).astype("<f4")
        return
    transformed = TRANSFORMS[card.transform](batch.values)
    for start, stop, entries in _row_chunks(batch, chunk_rows):
        cell = (batch.row_index[entries].astype(np.int64) - start) * n_names
        cell += batch.name_codes[entries]
        design = np.bincount(cell, weights=transformed[entries], minlength=(stop - start) * n_names)
        yield start, stop, (design.reshape(stop - start, n_names) @ directions).astype("<f4")


def _pad_to_dim(card: ModelCard, batch: FeatureBatch) -> np.ndarray:
    # Rank the vocabulary once by (group position, key); entries then sort by
    # (row, rank) and each takes the next position within its row.
    group_position = {group: i for i, group in enumerate(FEATURE_GROUPS)}
    sort_keys = [(group_position[g], k) for g, k in map(split_name, batch.names)]
    rank_of_name = np.empty(len(batch.names), dtype=np.int64)
    rank_of_name[sorted(range(len(sort_keys)), key=sort_keys.__getitem__)] = np.arange(
        len(sort_keys)
    )
    order = np.lexsort((rank_of_name[batch.name_codes], batch.row_index))
    rows = batch.row_index[order]
    run_start = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else rows
    first_of_run = np.zeros(len(rows), dtype=np.int64)
    first_of_run[run_start] = run_start
    position = np.arange(len(rows)) - np.maximum.accumulate(first_of_run)
    keep = position < card.dim
    values = TRANSFORMS[card.transform](batch.values[order])
    out = np.zeros((batch.n_rows, card.dim), dtype="<f4")
    out[rows[keep], position[keep]] = values[keep].astype(np.float32)
    return out


def reference_encode_one(card: ModelCard, features: Mapping[str, float]) -> np.ndarray:
    """One state's vector, written plainly (loops allowed): the semantics in a few
    lines, used by the tests to check `encode` and by bench/'s row-at-a-time baseline.
    Not for the hot path."""
    transform = TRANSFORMS[card.transform]
    if card.kind == "keyed_projection":
        z = np.zeros(card.dim, dtype=np.float64)
        for name, value in features.items():
            z += transform(np.float64(value)) * feature_directions(card, [name])[0]
        return z.astype("<f4")
    if card.kind == "pad_to_dim":
        values = []
        for group in FEATURE_GROUPS:
            keys = sorted(split_name(n)[1] for n in features if split_name(n)[0] == group)
            values += [float(transform(np.float64(features[f"{group}:{k}"]))) for k in keys]
        out = np.zeros(card.dim, dtype="<f4")
        out[: min(len(values), card.dim)] = np.asarray(values[: card.dim], dtype=np.float32)
        return out
    raise ValueError(f"card {card.model_id!r} has unknown kind {card.kind!r}")
