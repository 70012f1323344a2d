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

Both work on chunks of `chunk_rows` states, vectorised within a chunk (no Python loop
per state or per entry), so that memory beyond the batch and the output stays bounded.
`reference_encode_one` states the same semantics for one portfolio, plainly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from .batch import FEATURE_GROUPS, FeatureBatch, split_name
from .cards import ModelCard
from .transforms import TRANSFORMS

# Largest float64 design matrix (states x names) built in one piece: 1M x 128.
DENSE_BUDGET_BYTES = 1 << 30
DEFAULT_CHUNK_ROWS = 65_536


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
    """Vectors of all states of `batch`, shape (n_rows, dim), C-contiguous '<f4'.

    A state with no entries gets the zero vector; callers decide whether to store it.
    Memory beyond the batch and the output is bounded by `chunk_rows`.
    """
    out = np.zeros((batch.n_rows, card.dim), dtype="<f4")
    for start, stop, vectors in _encode_chunks(card, batch, chunk_rows):
        out[start:stop] = vectors  # float64 -> float32 here, without a temporary
    return out


def iter_encode(
    card: ModelCard, batch: FeatureBatch, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Like `encode`, one chunk of states at a time: (first row, end row, vectors).

    For streaming writers: the vectors of all states never exist at once. Each chunk's
    vectors are a new '<f4' array. The batch's per-entry arrays are read until the
    last chunk, so they stay alive until then.
    """
    chunks = _encode_chunks(card, batch, chunk_rows)
    del batch  # keep no reference here, so an encoder may free the entries early
    for start, stop, vectors in chunks:
        yield start, stop, vectors.astype("<f4")


def _encode_chunks(
    card: ModelCard, batch: FeatureBatch, chunk_rows: int
) -> Iterator[tuple[int, int, np.ndarray]]:
    """(first row, end row, vectors) per chunk; the vectors may be a float64 buffer
    that is reused by the next chunk, so callers copy (cast) them at once."""
    if chunk_rows <= 0:
        raise ValueError(f"chunk_rows must be positive, got {chunk_rows}")
    chunk_rows = min(chunk_rows, max(batch.n_rows, 1))  # also keeps row // chunk_rows in range
    if card.kind == "keyed_projection":
        return _keyed_projection(card, batch, chunk_rows)
    if card.kind == "pad_to_dim":
        return _pad_to_dim(card, batch, chunk_rows)
    raise ValueError(f"card {card.model_id!r} has unknown kind {card.kind!r}")


def _row_chunks(
    batch: FeatureBatch, chunk_rows: int
) -> Iterator[tuple[int, int, slice | np.ndarray]]:
    """(first row, end row, its entries) per chunk of chunk_rows states.

    The entries are a slice when row_index is already non-decreasing (located with
    np.searchsorted, no copy), else an index array. Entries arrive in any order (DuckDB
    unnests in parallel), but a chunk only needs *its* entries, not sorted rows: a
    stable argsort by chunk number, a small integer, is a linear-time radix sort in
    numpy, several times cheaper than sorting 30M entries by row. Stability keeps the
    input order within a chunk, which pad_to_dim relies on for duplicate entries.
    """
    rows, n_rows = batch.row_index, batch.n_rows
    starts = np.arange(0, n_rows, chunk_rows, dtype=np.int64)
    stops = np.minimum(starts + chunk_rows, n_rows)
    if np.all(rows[1:] >= rows[:-1]):
        # Probe with rows' own dtype (an int64 probe would copy an int32 rows); a
        # boundary beyond that dtype's range lies after every entry.
        fits = starts <= np.iinfo(rows.dtype).max
        bounds = np.full(len(starts) + 1, len(rows), dtype=np.int64)
        bounds[:-1][fits] = np.searchsorted(rows, starts[fits].astype(rows.dtype))
        for i in range(len(starts)):
            yield int(starts[i]), int(stops[i]), slice(int(bounds[i]), int(bounds[i + 1]))
        return
    chunk_of = rows // chunk_rows
    if len(starts) <= np.iinfo(np.uint16).max + 1:
        chunk_of = chunk_of.astype(np.uint16)  # 16-bit keys take numpy's radix sort
    order = np.argsort(chunk_of, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(chunk_of, minlength=len(starts)))])
    del chunk_of
    for i in range(len(starts)):
        yield int(starts[i]), int(stops[i]), order[bounds[i] : bounds[i + 1]]


def _keyed_projection(
    card: ModelCard, batch: FeatureBatch, chunk_rows: int
) -> Iterator[tuple[int, int, np.ndarray]]:
    transform = TRANSFORMS[card.transform]
    directions = feature_directions(card, batch.names)  # (V, dim) float64
    n_names = len(batch.names)
    # One float64 Z buffer for all chunks: a fresh 200 MB array per chunk would be
    # page-faulted in again every time, which measured slower than the matmul itself.
    z = np.empty((min(chunk_rows, batch.n_rows), card.dim), dtype=np.float64)
    n_rows = batch.n_rows
    if n_rows * n_names * 8 <= DENSE_BUDGET_BYTES:
        # X for all states fits: one bincount over the entries in input order (the same
        # per-cell summation order as the chunked path, so the same bytes), after which
        # the per-entry arrays are no longer needed and a streaming caller frees them
        # (at 1M portfolios: ~0.7 GB less peak RSS than holding them to the last chunk).
        cell = batch.row_index.astype(np.int64) * n_names
        cell += batch.name_codes
        design = np.bincount(
            cell, weights=transform(batch.values), minlength=n_rows * n_names
        ).reshape(n_rows, n_names)
        del cell, batch
        for start in range(0, n_rows, chunk_rows):
            stop = min(start + chunk_rows, n_rows)
            yield start, stop, np.matmul(design[start:stop], directions, out=z[: stop - start])
        return
    for start, stop, entries in _row_chunks(batch, chunk_rows):
        # X (chunk states x names) holds each state's transformed values; duplicate
        # (state, name) entries add up, which keeps the encoder linear. Then Z = X @ W
        # in float64; the caller casts it once to float32.
        cell = (batch.row_index[entries].astype(np.int64) - start) * n_names
        cell += batch.name_codes[entries]
        design = np.bincount(
            cell, weights=transform(batch.values[entries]), minlength=(stop - start) * n_names
        ).reshape(stop - start, n_names)
        yield start, stop, np.matmul(design, directions, out=z[: stop - start])


def _name_ranks(names: Sequence[str]) -> np.ndarray:
    """Rank of each name in pad_to_dim order: group position, then key (str order)."""
    group_position = {group: i for i, group in enumerate(FEATURE_GROUPS)}
    sort_keys = [(group_position[g], k) for g, k in map(split_name, names)]
    ranks = np.empty(len(names), dtype=np.int64)
    ranks[sorted(range(len(names)), key=sort_keys.__getitem__)] = np.arange(len(names))
    return ranks


def _pad_to_dim(
    card: ModelCard, batch: FeatureBatch, chunk_rows: int
) -> Iterator[tuple[int, int, np.ndarray]]:
    # Rank the vocabulary once (this also rejects names outside FEATURE_GROUPS); then,
    # per chunk, order the entries by (row, name rank) and give each the next position
    # within its row. Duplicate (row, name) entries keep their input order and each
    # takes a position, as the old script would have appended both.
    transform = TRANSFORMS[card.transform]
    name_rank = _name_ranks(batch.names)
    n_names = len(batch.names)
    for start, stop, entries in _row_chunks(batch, chunk_rows):
        n_states = stop - start
        local_row = batch.row_index[entries].astype(np.int64) - start
        n = len(local_row)
        # One unique int64 key per entry, (row, rank, input position), so the fast
        # unstable sort gives the stable order; a huge chunk falls back to a stable sort.
        cell = local_row * n_names + name_rank[batch.name_codes[entries]]
        if n_states * n_names * n < 2**62:
            order = np.argsort(cell * n + np.arange(n))
        else:
            order = np.argsort(cell, kind="stable")
        row_sorted = local_row[order]
        per_row = np.bincount(local_row, minlength=n_states)
        row_first = np.cumsum(per_row) - per_row  # index of each row's first sorted entry
        position = np.arange(n) - row_first[row_sorted]
        keep = position < card.dim
        out = np.zeros((n_states, card.dim), dtype="<f4")
        values = transform(batch.values[entries][order[keep]])
        out[row_sorted[keep], position[keep]] = values.astype(np.float32)
        yield start, stop, out


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
