"""Replace rows of a PostgreSQL table by key with a streamed binary COPY, in one
transaction:

  1. a transaction-level advisory lock serialises concurrent writers (READ COMMITTED,
     so the delete sees what a writer we waited for committed);
  2. the rows go into the table as a binary COPY while the caller still produces them;
  3. the rows they supersede are deleted: those with the key of a row this transaction
     inserted (xmin = our transaction id) that are not among them; skipped when the
     slice of the table the rows fall in was empty before the COPY;
  4. commit. Any failure rolls all of it back.

Why this way and what it costs: docs/postgres.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from portfolio_embeddings import table_slice
from portfolio_embeddings.postgres_copy.binary_format import SIGNATURE, TRAILER, encode_batch
from portfolio_embeddings.vector_fill import VectorFill


@dataclass(frozen=True)
class KeyedCopyResult:
    inserted: int
    deleted: int
    narrowing: dict[str, list]  # key column -> the run's values, as used in the delete
    delete_skipped: bool = False  # the run's slice was empty before it: nothing to replace


def keyed_copy(
    rows: pa.RecordBatchReader,
    dsn: str,
    schema: str,
    table: str,
    keys: str | list[str],
    lock_name: str,
    application_name: str = "keyed_copy",
    tombstone_column: str | None = None,
    vector_fill: VectorFill | None = None,
) -> KeyedCopyResult:
    """Replace the keys of the `rows` in `schema.table`, in one transaction.

    A key is a column or an expression on one (e.g. "entity_scope->>'portfolio_id'").
    A row whose `tombstone_column` is null is a tombstone: what the table holds under
    its key is deleted and the row itself is not inserted. Concurrent writers with the
    same `lock_name` take turns. With `vector_fill`, the rows take their vectors from
    another table in the server (keyed_fill).
    """
    keys = [keys] if isinstance(keys, str) else list(keys)
    if vector_fill is not None:
        from portfolio_embeddings.postgres_copy.keyed_fill import keyed_fill

        return keyed_fill(rows, dsn, schema, table, keys, lock_name, application_name, vector_fill)
    target = sql.Identifier(schema, table)
    columns = rows.schema.names
    with _locked_connection(dsn, application_name, lock_name) as pg:
        types = _column_types_of(pg, schema, table, columns)
        values = table_slice.start(keys, columns)
        inserted = 0
        tombstones: list[pa.RecordBatch] = []
        copy_sql = _copy_into(target, columns)
        with pg.cursor() as cur:
            batches = _read_ahead(rows)
            first = next(batches, None)
            if first is None:
                return KeyedCopyResult(0, 0, {}, delete_skipped=True)
            table_slice.collect_distinct(first, values)
            slice_before = table_slice.narrowing(values)
            slice_was_empty = not _slice_has_rows(cur, target, slice_before)
            with cur.copy(copy_sql, writer=QueuedLibpqWriter(cur)) as copy:
                copy.write(SIGNATURE)
                for batch in itertools.chain([first], batches):
                    table_slice.collect_distinct(batch, values)
                    if tombstone_column is not None:
                        dead = pc.is_null(batch.column(tombstone_column))
                        tombstones.append(batch.filter(dead))
                        batch = batch.filter(pc.invert(dead))
                    copy.write(encode_batch(batch, types))
                    inserted += batch.num_rows
                copy.write(TRAILER)
            narrowing = table_slice.narrowing(values)
            # a value the first batch did not have (or too many) means an unchecked slice
            delete_skipped = slice_was_empty and narrowing == slice_before
            deleted = 0
            if not delete_skipped:
                # Statistics from before this run's rows can make the planner rescan
                # the slice once per row (quadratic); a hash join scans each side once.
                cur.execute("set local enable_nestloop = off")
                cur.execute(_delete_superseded(target, keys, narrowing), narrowing)
                deleted = cur.rowcount
            if any(batch.num_rows for batch in tombstones):
                deleted += _delete_tombstoned(cur, target, columns, types, keys, tombstones)
        pg.commit()
    return KeyedCopyResult(inserted, deleted, narrowing, delete_skipped)


@contextmanager
def _locked_connection(dsn: str, application_name: str, lock_name: str):
    """A connection whose transaction holds the advisory lock `lock_name`, in READ
    COMMITTED: explicit, because a server whose default is REPEATABLE READ would take
    the delete's snapshot before the lock wait, and miss the rows of the run it waited
    for."""
    with psycopg.connect(dsn, application_name=application_name) as pg:
        pg.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        pg.execute("select pg_advisory_xact_lock(hashtext(%s))", [lock_name])
        yield pg


def _column_types_of(pg, schema: str, table: str, columns: list[str]) -> list[str]:
    """The PostgreSQL type of each of `columns` in `schema.table`; a column the table
    lacks is an error before anything is sent."""
    pg_types = _column_types(pg, schema, table)
    missing = [c for c in columns if c not in pg_types]
    if missing:
        raise ValueError(f"{schema}.{table} has no column(s) {missing}")
    return [pg_types[c] for c in columns]


def _copy_into_temporary(cur, name, target, columns: list[str], types, batches) -> int:
    """A temporary table `name` (dropped at commit) of `target`'s `columns`, without its
    constraints, filled with `batches` by a binary COPY; the number of rows copied."""
    cur.execute(
        sql.SQL(
            "create temporary table {} on commit drop as select {} from {} with no data"
        ).format(name, sql.SQL(", ").join(map(sql.Identifier, columns)), target)
    )
    n_rows = 0
    with cur.copy(_copy_into(name, columns)) as copy:
        copy.write(SIGNATURE)
        for batch in batches:
            copy.write(encode_batch(batch, types))
            n_rows += batch.num_rows
        copy.write(TRAILER)
    return n_rows


def _delete_by_ctid(target, candidates: sql.Composable) -> sql.Composed:
    """Delete the rows of `target` whose ctid `candidates` selects. The TID scan visits
    the heap in its order (the join's order thrashes the buffer cache;
    docs/postgres.md)."""
    return sql.SQL("delete from {} where ctid = any(array({}))").format(target, candidates)


def _copy_into(table, columns: list[str]) -> sql.Composed:
    return sql.SQL("copy {} ({}) from stdin (format binary)").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns))
    )


def _delete_tombstoned(cur, target, columns, types, keys, tombstones) -> int:
    """Delete the rows under the tombstones' keys: the tombstones go into a temporary
    table of the target's columns (no constraints: their other columns are null)."""
    dead = sql.Identifier("keyed_copy_tombstones")
    _copy_into_temporary(cur, dead, target, columns, types, tombstones)
    cur.execute(
        sql.SQL("delete from {} as existing using {} as incoming where {}").format(
            target, dead, sql.SQL(" and ").join(_key_matches(keys))
        )
    )
    return cur.rowcount


def _key_matches(keys: list[str]) -> list[sql.Composable]:
    """`(incoming.<key>) = (existing.<key>)` per key (a column or an expression on one)."""
    return [sql.SQL(f"(incoming.{key}) = (existing.{key})") for key in keys]


def _slice_has_rows(cur, target, narrowing: dict[str, list]) -> bool:
    """Whether the table has a row in the slice (asked before the COPY: none is ours)."""
    where = _in_slice(narrowing)
    query = sql.SQL("select exists (select 1 from {} where {})").format(
        target, sql.SQL(" and ").join(where) if where else sql.SQL("true")
    )
    return cur.execute(query, narrowing).fetchone()[0]


def _in_slice(narrowing: dict[str, list], alias: str | None = None) -> list[sql.Composable]:
    """`<alias.>column = any(%(column)s)` per narrowing column (the run's values)."""
    return [
        sql.SQL("{} = any({})").format(
            sql.Identifier(*filter(None, (alias, column))), sql.Placeholder(column)
        )
        for column in narrowing
    ]


def _read_ahead(rows: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The batches of `rows`, the next one produced on a thread of its own while the
    caller encodes and sends this one. numpy, Arrow and DuckDB release the GIL, so a
    model computing its rows and this writer run on two cores at once."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyed_copy_read") as pool:
        batches = iter(rows)
        pending = pool.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = pool.submit(next, batches, None)
            yield batch


def _column_types(pg, schema: str, table: str) -> dict[str, str]:
    rows = pg.execute(
        "select attname::text, format_type(atttypid, atttypmod) from pg_attribute "
        "where attrelid = format('%%I.%%I', %s::text, %s::text)::regclass "
        "and attnum > 0 and not attisdropped",
        [schema, table],
    ).fetchall()
    return dict(rows)


def _delete_superseded(target, keys: list[str], narrowing: dict[str, list]):
    """Rows with the key of a row this transaction inserted, other than those rows.

    "Inserted by this transaction" is xmin = our transaction id: exact, as this
    transaction inserts nothing else (a frozen row whose raw xmin wrapped around to our
    id would be taken for a new one; one chance in 2^32 per key).
    A key is a column or an expression on one (e.g. "entity_scope->>'portfolio_id'"),
    as in the model's unique_key; each side is parenthesised. The narrowing predicates
    change nothing in what is deleted (the key equalities decide that) but confine both
    scans to the run's slice of the shared table through its natural-key index.
    """
    where = [
        sql.SQL("incoming.xmin = pg_current_xact_id()::xid"),
        sql.SQL("existing.xmin <> pg_current_xact_id()::xid"),
    ]
    where += _in_slice(narrowing, "existing") + _in_slice(narrowing, "incoming")
    where += _key_matches(keys)
    superseded = sql.SQL(
        "select existing.ctid from {target} as existing, {target} as incoming where "
    ).format(target=target) + sql.SQL(" and ").join(where)
    return _delete_by_ctid(target, superseded)
