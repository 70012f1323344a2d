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
    A scaled card (num-portfolio-core-v2) projects t(value) / s(name) instead, with s
    its per-feature scales (python_encoders.scales): each direction is divided by its
    name's scale, so the encoder stays linear and a missing key still has no term.
    Accumulation is in float64 and the result is cast once to float32: summation-order
    differences (BLAS, chunking) stay far below float32 resolution.

pad_to_dim (num-portfolio-pad-v0)
    The old backfill script's vector: raw values of risk_metrics, then sector, then
    factor, each group in sorted-key order, float32, zero-padded or truncated to dim.

Each kind is a chunk encoder in the `ENCODERS` registry, as transforms are in `TRANSFORMS`.
It works on chunks of `chunk_rows` states, vectorised within a chunk (no Python loop per
state or per entry), so that memory beyond the batch and the output stays bounded.
`reference_encode_one` states the same semantics for one portfolio, plainly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .batch import FEATURE_GROUPS, FeatureBatch, split_name
from .transforms import TRANSFORMS

if TYPE_CHECKING:  # cards validates kinds against ENCODERS, so it imports this module
    from .cards import ModelCard

# Largest float64 design matrix (states x names) built in one piece: 1M x 128.
DENSE_BUDGET_BYTES = 1 << 30
DEFAULT_CHUNK_ROWS = 65_536


def feature_directions(card: ModelCard, names: Sequence[str]) -> np.ndarray:
    """The keyed direction w(name) of each feature name, entries +-1/sqrt(dim).

    Bits come from ``sha256(f"{seed}\\x1f{name}\\x1f{block}")`` for block = 0, 1, ...
    concatenated, little-endian bit order; bit 1 means -1. One hash per name and
    256 dimensions: a loop over the vocabulary (hundreds of names), never over entries.

    Parameters
    ----------
    card : ModelCard
        Gives `dim` and `seed`.
    names : sequence of str
        Feature names; a name's direction depends on (seed, name) only.

    Returns
    -------
    ndarray of float64, shape (len(names), card.dim)
        One direction per row.

    Examples
    --------
    >>> import numpy as np
    >>> from python_encoders import feature_directions, get_card
    >>> card = get_card("num-portfolio-core-v1")
    >>> w = feature_directions(card, ["sector:Energy", "factor:value"])
    >>> w.shape, bool(np.all(np.abs(w) == 1 / np.sqrt(384)))
    ((2, 384), True)
    >>> bool(np.array_equal(feature_directions(card, ["factor:value"])[0], w[1]))
    True
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
    """The vectors as C-contiguous little-endian float32, the layout stored in `vector`.

    Parameters
    ----------
    vectors : array_like of float
        Any float dtype, byte order or memory layout.

    Returns
    -------
    ndarray of '<f4'
        `vectors` itself when it already has that layout (no copy), else a converted copy.

    Examples
    --------
    >>> import numpy as np
    >>> from python_encoders import as_le_float32
    >>> out = as_le_float32(np.asfortranarray(np.arange(6, dtype=">f8").reshape(2, 3)))
    >>> out.dtype.str, out.flags.c_contiguous
    ('<f4', True)
    >>> np.frombuffer(out[1].tobytes(), dtype="<f4").tolist()  # row 1's stored bytes
    [3.0, 4.0, 5.0]
    >>> as_le_float32(out) is out  # already in the stored layout: no copy
    True
    """
    return np.ascontiguousarray(vectors, dtype="<f4")


def encode(
    card: ModelCard, batch: FeatureBatch, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> np.ndarray:
    """Encode every state of a batch with the encoder of `card`.

    Parameters
    ----------
    card : ModelCard
        The encoder: its kind (a key of `ENCODERS`), dim, seed and transform.
    batch : FeatureBatch
        The states' features, entries in any order.
    chunk_rows : int, default=65536
        States encoded at a time; bounds the memory beyond the batch and the output.
        The bytes do not depend on it.

    Returns
    -------
    ndarray of '<f4', shape (batch.n_rows, card.dim)
        C-contiguous. A state with no entries gets the zero vector; callers decide
        whether to store it.

    Raises
    ------
    ValueError
        If `chunk_rows` is not positive, or (pad_to_dim) a feature name's group is not
        in `FEATURE_GROUPS`.

    See Also
    --------
    iter_encode : The same vectors, one chunk of states at a time.
    reference_encode_one : The same semantics for one state, written plainly.

    Examples
    --------
    >>> import numpy as np
    >>> from python_encoders import FeatureBatch, encode, get_card
    >>> from python_encoders import feature_directions, signed_log1p
    >>> names = ["risk_metrics:beta", "sector:Energy", "sector:Energy"]
    >>> batch = FeatureBatch.from_records(3, [0, 0, 1], names, [1.1, 0.25, 0.25])
    >>> core = get_card("num-portfolio-core-v1")
    >>> vectors = encode(core, batch)
    >>> vectors.shape, vectors.dtype.str
    ((3, 384), '<f4')
    >>> w = feature_directions(core, ["sector:Energy"])[0]
    >>> bool(np.allclose(vectors[1], signed_log1p(0.25) * w))  # t(value) * w(name)
    True
    >>> bool(vectors[2].any())  # state 2 has no entries
    False
    >>> encode(get_card("num-portfolio-pad-v0"), batch)[0, :3].tolist()  # group, then key
    [1.100000023841858, 0.25, 0.0]
    """
    out = np.zeros((batch.n_rows, card.dim), dtype="<f4")
    for start, stop, vectors in _encode_chunks(card, batch, chunk_rows):
        out[start:stop] = vectors  # float64 -> float32 here, without a temporary
    return out


def iter_encode(
    card: ModelCard, batch: FeatureBatch, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Encode a batch one chunk of states at a time, for streaming writers.

    The vectors of all states never exist at once. The batch's per-entry arrays may be
    read until the last chunk, so they stay alive until then.

    Parameters
    ----------
    card : ModelCard
        The encoder, as for `encode`.
    batch : FeatureBatch
        The states' features, entries in any order.
    chunk_rows : int, default=65536
        States per chunk (the last chunk may be shorter).

    Yields
    ------
    start : int
        The chunk's first row.
    stop : int
        One past its last row.
    vectors : ndarray of '<f4', shape (stop - start, card.dim)
        A new array per chunk, equal to ``encode(card, batch)[start:stop]``.

    Raises
    ------
    ValueError
        As `encode` does, when the first chunk is requested.

    Examples
    --------
    >>> import numpy as np
    >>> from python_encoders import FeatureBatch, encode, get_card, iter_encode
    >>> batch = FeatureBatch.from_records(3, [0, 2], ["sector:Energy", "factor:value"], [1, 2])
    >>> core = get_card("num-portfolio-core-v1")
    >>> chunks = list(iter_encode(core, batch, chunk_rows=2))
    >>> [(start, stop, vectors.shape) for start, stop, vectors in chunks]
    [(0, 2, (2, 384)), (2, 3, (1, 384))]
    >>> bool(np.array_equal(np.concatenate([v for *_, v in chunks]), encode(core, batch)))
    True
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
    try:
        encoder = ENCODERS[card.kind]
    except KeyError:
        raise ValueError(f"card {card.model_id!r} has unknown kind {card.kind!r}") from None
    return encoder(card, batch, chunk_rows)


def _row_chunks(
    batch: FeatureBatch, chunk_rows: int
) -> Iterator[tuple[int, int, slice | np.ndarray]]:
    """(first row, end row, its entries) per chunk of chunk_rows states.

    The entries are a slice when row_index is already non-decreasing (located with
    np.searchsorted, no copy), else an index array. Entries arrive in any order (DuckDB
    unnests in parallel), but a chunk only needs *its* entries, not sorted rows: a
    stable argsort by chunk number, a small integer, is a linear-time radix sort in
    numpy, cheaper than sorting the entries by row. Stability keeps the input order
    within a chunk, which pad_to_dim relies on for duplicate entries.
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
    if card.scales is not None:
        directions /= card.scales.of(batch.names)[:, None]  # t / s(name) * w(name)
    n_names = len(batch.names)
    # One float64 Z buffer for all chunks: a fresh one would be page-faulted in each time.
    z = np.empty((min(chunk_rows, batch.n_rows), card.dim), dtype=np.float64)
    n_rows = batch.n_rows
    if n_rows * n_names * 8 <= DENSE_BUDGET_BYTES:
        # X for all states fits: one bincount over the entries in input order (the same
        # per-cell summation order as the chunked path, so the same bytes), after which
        # the per-entry arrays are no longer needed and a streaming caller frees them.
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


# The registry of encoder kinds: kind -> chunk encoder, called with (card, batch,
# chunk_rows) and yielding (first row, end row, vectors) per chunk of states. A card's
# `kind` must be one of these names (cards.ModelCard checks it at construction).
ENCODERS: dict[
    str, Callable[[ModelCard, FeatureBatch, int], Iterator[tuple[int, int, np.ndarray]]]
] = {
    "keyed_projection": _keyed_projection,
    "pad_to_dim": _pad_to_dim,
}


def reference_encode_one(card: ModelCard, features: Mapping[str, float]) -> np.ndarray:
    """One state's vector, written plainly (loops allowed): the semantics in a few lines.

    Used by the tests to check `encode` and by bench/'s row-at-a-time baseline; not for
    the hot path.

    Parameters
    ----------
    card : ModelCard
        The encoder.
    features : mapping of str to float
        One state's features, ``{"group:key": value}``.

    Returns
    -------
    ndarray of '<f4', shape (card.dim,)
        The state's vector, equal to its row of `encode` up to float64 summation order.

    Raises
    ------
    ValueError
        If the card's kind has no reference here, or (pad_to_dim) a feature name's group
        is not in `FEATURE_GROUPS`.

    Examples
    --------
    >>> import numpy as np
    >>> from python_encoders import FeatureBatch, encode, get_card, reference_encode_one
    >>> features = {"risk_metrics:beta": 1.1, "sector:Energy": 0.25, "factor:value": -0.7}
    >>> batch = FeatureBatch.from_records(1, [0, 0, 0], list(features), list(features.values()))
    >>> for model_id in ("num-portfolio-core-v1", "num-portfolio-core-v2", "num-portfolio-pad-v0"):
    ...     card = get_card(model_id)
    ...     print(model_id, np.allclose(reference_encode_one(card, features), encode(card, batch)))
    num-portfolio-core-v1 True
    num-portfolio-core-v2 True
    num-portfolio-pad-v0 True
    """
    transform = TRANSFORMS[card.transform]
    if card.kind == "keyed_projection":
        z = np.zeros(card.dim, dtype=np.float64)
        for name, value in features.items():
            scale = 1.0 if card.scales is None else card.scales.of([name])[0]
            z += transform(np.float64(value)) / scale * feature_directions(card, [name])[0]
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
