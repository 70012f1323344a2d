"""The slice of a shared table that a keyed write touches.

A key column with few distinct values in the written rows (entity_type, model_id,
as_of_date; not entity_id) narrows the delete of superseded rows to those values. The
predicates change nothing in what is deleted (the key equalities decide that): they
let the engine skip the rest of the table (docs/performance.md).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

MAX_NARROWING_VALUES = 100


def start(keys: list[str], columns: list[str]) -> dict[str, set | None]:
    """An empty record of the distinct values of each key that is a plain column."""
    return {key: set() for key in keys if key in columns}


def collect_distinct(batch: pa.RecordBatch | pa.Table, values: dict[str, set | None]) -> None:
    """Add the batch's distinct values of each candidate column (None once too many)."""
    for key in values:
        add_values(values, key, batch.column(key))


def add_values(values: dict[str, set | None], key: str, column) -> None:
    """Add a column's distinct values to those of candidate `key` (None once too many)."""
    seen = values[key]
    if seen is None:
        return
    seen.update(pc.unique(column.drop_null()).to_pylist())
    if len(seen) > MAX_NARROWING_VALUES:
        values[key] = None


def narrowing(values: dict[str, set | None]) -> dict[str, list]:
    """Column -> its sorted values, for each column that narrows the write."""
    return {key: sorted(seen) for key, seen in values.items() if seen}
