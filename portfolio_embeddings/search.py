"""Similarity search over the stored vectors: one model's vectors as an (n, dim)
float32 matrix with their keys, and the k nearest rows to a query vector."""

from __future__ import annotations

import numpy as np


class SearchError(LookupError):
    """Nothing usable is stored for what was asked."""


def load_vectors(con, table: str, model_id: str, *, keys_as_numpy: bool = True):
    """All PORTFOLIO vectors of a model as one (n, dim) float32 matrix + their keys
    (numpy string arrays, or Arrow arrays when keys_as_numpy is False)."""
    # Row order does not matter here, and an unordered result is collected much faster.
    con.execute("set preserve_insertion_order = false")
    rows = con.execute(
        f"select entity_id, as_of_date, vector from {table} "
        "where entity_type = 'PORTFOLIO' and model_id = ? and vector is not null",
        [model_id],
    ).to_arrow_table()
    if rows.num_rows == 0:
        raise SearchError(f"no PORTFOLIO vectors for model_id {model_id!r}")
    blocks = [_binary_chunk_as_matrix(chunk) for chunk in rows.column("vector").chunks]
    if len({block.shape[1] for block in blocks}) != 1:
        raise SearchError("vectors of different lengths under one model_id")
    vectors = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    ids = rows.column("entity_id").combine_chunks()
    dates = rows.column("as_of_date").cast("string").combine_chunks()
    if keys_as_numpy:
        return ids.to_numpy(zero_copy_only=False), dates.to_numpy(zero_copy_only=False), vectors
    return ids, dates, vectors


def _binary_chunk_as_matrix(chunk) -> np.ndarray:
    """An Arrow binary chunk of equal-length float32 vectors as an (n, dim) view of its
    data buffer: no Python object per vector."""
    offsets = np.frombuffer(
        chunk.buffers()[1], dtype=np.int64 if "large" in str(chunk.type) else np.int32
    )[chunk.offset : chunk.offset + len(chunk) + 1]
    lengths = np.diff(offsets)
    if len(lengths) == 0 or not (lengths == lengths[0]).all() or lengths[0] % 4:
        raise SearchError("vectors of different lengths under one model_id")
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.view("<f4").reshape(len(chunk), lengths[0] // 4)


def nearest(vectors: np.ndarray, query: np.ndarray, k: int, norms: np.ndarray | None = None):
    """Indices of the k most cosine-similar rows, best first; cosine and euclidean."""
    if norms is None:
        # einsum: no (n, dim) temporary, unlike np.linalg.norm(axis=1)
        norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64))
    cosine = (vectors @ query) / np.maximum(norms * np.linalg.norm(query), 1e-30)
    k = min(k, len(cosine))
    top = np.argpartition(-cosine, k - 1)[:k]
    top = top[np.argsort(-cosine[top], kind="stable")]
    euclidean = np.linalg.norm(vectors[top] - query, axis=1)
    return top, cosine[top], euclidean
