"""What the analytics models (reference distances, drift, dispersion) share: the stored
vectors of one model_id read a batch at a time as float32 matrices, the run's
timestamp, and the Arrow shapes of their rows.

Memory stays bounded by the batch, whatever the number of states: a batch's vectors
are a view of its Arrow buffer (no Python object per vector)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_embeddings.search import _binary_chunk_as_matrix
from portfolio_embeddings.sql import sql_literal

BATCH_ROWS = 16_384  # vectors per batch: 25 MB of float32, 50 MB once widened to float64
TIMESTAMP = pa.timestamp("us", tz="UTC")


def portfolio_vector_keys(numeric_sql: str, model_id: str) -> str:
    """SQL of the keys (entity_id renamed portfolio_id, as_of_date, created_at,
    window_spec) of the stored PORTFOLIO vectors of `model_id`, without the vectors.

    A stored vector is a row that holds its vector itself: vector_ref null, hence (the
    platform's CHECK) vector not null. Testing the vector for null would read it: an
    ATTACHed PostgreSQL sends the whole column for that test (docs/analytics.md).
    """
    return (
        "select entity_id as portfolio_id, as_of_date, created_at, window_spec "
        f"from ({numeric_sql}) as numeric_rows where entity_type = 'PORTFOLIO' "
        f"and model_id = {sql_literal(model_id)} and vector_ref is null"
    )


def portfolio_vectors(numeric_sql: str, model_id: str) -> str:
    """SQL of the stored PORTFOLIO vectors of `model_id`: the rows of
    portfolio_vector_keys with their vector."""
    return (
        "select entity_id as portfolio_id, as_of_date, created_at, window_spec, vector "
        f"from ({numeric_sql}) as numeric_rows where entity_type = 'PORTFOLIO' "
        f"and model_id = {sql_literal(model_id)} and vector_ref is null and vector is not null"
    )


def vector_batches(
    cursor: duckdb.DuckDBPyConnection, sql: str, vector_columns: tuple[str, ...] = ("vector",)
) -> Iterator[tuple[pa.RecordBatch, list[np.ndarray]]]:
    """The rows of `sql` a batch at a time: the batch without its vector columns, and
    each vector column as an (n, dim) float32 matrix."""
    reader = cursor.sql(sql).to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        if batch.num_rows == 0:
            continue
        matrices = [_binary_chunk_as_matrix(batch.column(name)) for name in vector_columns]
        keys = batch.drop_columns(list(vector_columns))
        yield keys, matrices


def run_timestamp(cursor: duckdb.DuckDBPyConnection) -> dt.datetime:
    """Now, by the engine's clock: what the rows' computed_at is compared with (the
    numeric rows' created_at comes from the same clock)."""
    return cursor.sql("select current_timestamp").fetchone()[0]


def date_range(dates: pa.Array) -> str:
    """`between <first> and <last>` of the dates as literals (an ATTACHed PostgreSQL is
    then scanned for those dates only), or `is not null` when there are none."""
    if len(dates) == 0:
        return "is not null"
    first, last = pc.min_max(dates).values()
    return f"between date '{first.as_py().isoformat()}' and date '{last.as_py().isoformat()}'"


def is_true(value) -> bool:
    """A var rendered into config meta ('True', 'true', True) as a bool."""
    return str(value).strip().lower() == "true"
