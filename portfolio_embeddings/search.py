"""Similarity search over the stored vectors: one model's vectors as an (n, dim)
float32 matrix with their keys, and the k nearest rows to a query vector.

A model's vectors live in one of two tables (a `Space`): a numeric card's in
numeric_window_embeddings (entity_type 'PORTFOLIO'), a joint card's in joint_embeddings
(the portfolio in entity_scope).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from python_encoders import JOINT_CARDS, MODEL_CARDS


class SearchError(LookupError):
    """Nothing usable is stored for what was asked."""


@dataclass(frozen=True)
class Space:
    """Where one model's portfolio vectors are: the table (a key of the project's
    relations) and the SQL that reads a row's portfolio_id and keeps that model's rows."""

    model_id: str
    table: str
    portfolio_id_sql: str
    where_sql: str  # with one parameter, the model_id

    @property
    def is_joint(self) -> bool:
        return self.table == "joint_embeddings"


def known_ids() -> list[str]:
    """The numeric and the joint model_ids, sorted."""
    return sorted({*MODEL_CARDS, *JOINT_CARDS})


def space_of(model_id: str) -> Space:
    """The Space of a numeric or joint model_id; a SearchError lists the known ones."""
    if model_id in JOINT_CARDS:
        return Space(model_id, "joint_embeddings", "(entity_scope ->> 'portfolio_id')",
                     "model_id = ?")  # fmt: skip
    if model_id in MODEL_CARDS:
        return Space(model_id, "numeric_window_embeddings", "entity_id",
                     "entity_type = 'PORTFOLIO' and model_id = ?")  # fmt: skip
    raise SearchError(f"unknown model_id {model_id!r}; known model_ids: {', '.join(known_ids())}")


def load_vectors(
    con, table: str, model_id: str, *, keys_as_numpy: bool = True, space: Space | None = None
):
    """All PORTFOLIO vectors of a model as one (n, dim) float32 matrix + their keys
    (numpy string arrays, or Arrow arrays when keys_as_numpy is False). `table` is the
    qualified name of the space's table (numeric_window_embeddings by default)."""
    space = space or space_of(model_id)
    # Row order does not matter here, and an unordered result is collected much faster.
    con.execute("set preserve_insertion_order = false")
    rows = con.execute(
        f"select {space.portfolio_id_sql} as entity_id, as_of_date, vector from {table} "
        f"where {space.where_sql} and vector is not null",
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


def nearest(
    vectors: np.ndarray,
    query: np.ndarray,
    k: int,
    norms: np.ndarray | None = None,
    *,
    rows: np.ndarray | None = None,
    tie_keys: Callable[[np.ndarray], list[np.ndarray]] | None = None,
):
    """Indices of the k most cosine-similar rows, best first; cosine and euclidean.

    rows: the candidate row indices (default all). tie_keys(row indices) gives the keys,
    most significant first, that order equal cosines (default the row index), so that
    the answer does not depend on the order the rows were read in.

    >>> v = np.array([[1, 0], [0, 1], [2, 0], [1, 1]], dtype="<f4")
    >>> names = np.array(["d", "a", "b", "c"])
    >>> top, cosine, _ = nearest(v, np.array([1, 0], "<f4"), 2, tie_keys=lambda r: [names[r]])
    >>> top.tolist(), cosine.round(3).tolist()
    ([2, 0], [1.0, 1.0])
    """
    if rows is None:
        rows = np.arange(len(vectors))
    candidates = vectors if len(rows) == len(vectors) else vectors[rows]
    if norms is None:
        # einsum: no (n, dim) temporary, unlike np.linalg.norm(axis=1)
        row_norms = np.sqrt(np.einsum("ij,ij->i", candidates, candidates, dtype=np.float64))
    else:
        row_norms = norms[rows]
    # einsum, not BLAS: a row's dot product must not depend on where the row sits (BLAS
    # kernels round a tail row differently), or equal vectors would not tie
    dots = np.einsum("ij,j->i", candidates, query, dtype=np.float64)
    cosine = dots / np.maximum(row_norms * np.linalg.norm(query), 1e-30)
    k = min(k, len(cosine))
    if k == 0:
        return rows[:0], cosine[:0], cosine[:0]
    # every candidate as close as the k-th, so that the ties at the cut are all ordered
    kth = np.partition(-cosine, k - 1)[k - 1]
    best = np.flatnonzero(-cosine <= kth)
    secondary = tie_keys(rows[best]) if tie_keys else [rows[best]]
    best = best[np.lexsort((*reversed(secondary), -cosine[best]))][:k]
    top = rows[best]
    euclidean = np.linalg.norm(vectors[top].astype(np.float64) - query, axis=1)
    return top, cosine[best], euclidean
