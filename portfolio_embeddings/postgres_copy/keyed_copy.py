"""keyed_replace into a PostgreSQL table, streamed: how a Python model's rows reach the
shared table on the postgres target (called from py_write_table, macros/python_model_write.sql).

One PostgreSQL transaction:
  1. a transaction-level advisory lock serialises concurrent runs (released at commit
     or rollback; READ COMMITTED, so the delete sees what a run we waited for committed);
  2. the rows are sent as a binary COPY straight into the table while the model is
     still producing them: PostgreSQL stores one chunk while the next is encoded;
  3. the rows this run replaces are deleted: those with a key equal to one of the rows
     this transaction inserted (xmin = our transaction id) that are not among them.
     Skipped when the run's slice of the table (its dates, model_ids, entity types)
     held no row before the COPY: checked before it, on the first batch's values, by
     an index probe, where the delete would visit every row just written (~3 s at 1M);
  4. commit. A failure anywhere (a constraint violation, a killed process, a lost
     connection) rolls all of it back.
Why not DuckDB's own INSERT into the attached table: for a table with a jsonb column it
falls back to a text COPY (client-bound, ~40 s per million rows), and a staging table
made PostgreSQL store every row twice. Measured at 1M rows: this path 16 s for the
COPY overlapped with the encoding, against 5 s + 15 s after it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from portfolio_embeddings.postgres_copy.binary_format import SIGNATURE, TRAILER, encode_batch

# Rows per Arrow batch read from a DuckDB relation and sent as one COPY block (~27 MB of
# vectors): the size of the model's own chunks; the blocks queued for the server stay small.
CHUNK_ROWS = 16_384
# A key column with at most this many distinct values in the run narrows the delete to
# the run's slice of the shared table (entity_type, model_id, as_of_date; not entity_id).
MAX_NARROWING_VALUES = 100


@dataclass(frozen=True)
class KeyedCopyResult:
    inserted: int
    deleted: int
    narrowing: dict[str, list]  # key column -> the run's values, as used in the delete
    delete_skipped: bool = False  # the run's slice was empty before it: nothing to replace


def attached_dsn(con: duckdb.DuckDBPyConnection, database: str) -> str:
    """The connection string DuckDB ATTACHed `database` from (never logged)."""
    row = con.execute(
        "select path from duckdb_databases() where database_name = ? and type = 'postgres'",
        [database],
    ).fetchone()
    if row is None:
        raise ValueError(f"{database!r} is not an attached PostgreSQL database")
    return row[0]


def record_batches(
    con: duckdb.DuckDBPyConnection, model_output, registered_name: str
) -> pa.RecordBatchReader:
    """A Python model's rows as Arrow batches: the reader the model returned, as it is
    (its vectors need not pass through DuckDB), or a reader over whatever else DuckDB
    registered under `registered_name` (a relation, a DataFrame, a table).

    The query behind the latter starts at the first batch read: DuckDB ends a
    connection's streamed result, silently, when the connection runs its next query
    (the reader then yields no more rows), so nothing may run on `con` in between.
    """
    if isinstance(model_output, pa.RecordBatchReader):
        return model_output
    relation = con.sql(f'select * from "{registered_name}"')
    schema = relation.limit(0).to_arrow_table().schema
    return pa.RecordBatchReader.from_batches(schema, _streamed(relation))


def _streamed(relation: duckdb.DuckDBPyRelation) -> Iterator[pa.RecordBatch]:
    yield from relation.to_arrow_reader(CHUNK_ROWS)


def keyed_copy(
    rows: pa.RecordBatchReader,
    dsn: str,
    schema: str,
    table: str,
    keys: str | list[str],
    lock_name: str,
) -> KeyedCopyResult:
    """Replace the keys of the `rows` in `schema.table`, in one transaction."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    target = sql.Identifier(schema, table)
    columns = rows.schema.names
    with psycopg.connect(dsn, application_name="portfolio_embeddings") as pg:
        # explicit: a server whose default is REPEATABLE READ would take the delete's
        # snapshot before the lock wait, and miss the rows of the run it waited for
        pg.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        pg.execute("select pg_advisory_xact_lock(hashtext(%s))", [lock_name])
        pg_types = _column_types(pg, schema, table)
        missing = [c for c in columns if c not in pg_types]
        if missing:
            raise ValueError(f"{schema}.{table} has no column(s) {missing}")
        types = [pg_types[c] for c in columns]
        values: dict[str, set | None] = {k: set() for k in keys if k in columns}
        inserted = 0
        copy_sql = sql.SQL("copy {} ({}) from stdin (format binary)").format(
            target, sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with pg.cursor() as cur:
            batches = _read_ahead(rows)
            first = next(batches, None)
            if first is None:
                return KeyedCopyResult(0, 0, {}, delete_skipped=True)
            _collect_distinct(first, values)
            slice_before = _narrowing(values)
            slice_was_empty = not _slice_has_rows(cur, target, slice_before)
            with cur.copy(copy_sql, writer=QueuedLibpqWriter(cur)) as copy:
                copy.write(SIGNATURE)
                for batch in itertools.chain([first], batches):
                    _collect_distinct(batch, values)
                    copy.write(encode_batch(batch, types))
                    inserted += batch.num_rows
                copy.write(TRAILER)
            narrowing = _narrowing(values)
            # a value the first batch did not have (or too many) means an unchecked slice
            delete_skipped = slice_was_empty and narrowing == slice_before
            deleted = 0
            if not delete_skipped:
                # The slice's statistics predate this run's rows (analyze has not seen
                # them): estimating it at a row or two, the planner picked a nested loop
                # that rescans the slice once per row, quadratic (a 1M re-run took over
                # ten minutes). A hash or merge join scans each side once.
                cur.execute("set local enable_nestloop = off")
                cur.execute(_delete_superseded(target, keys, narrowing), narrowing)
                deleted = cur.rowcount
        pg.commit()
    return KeyedCopyResult(inserted, deleted, narrowing, delete_skipped)


def _narrowing(values: dict[str, set | None]) -> dict[str, list]:
    return {k: sorted(v) for k, v in values.items() if v}


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


def _collect_distinct(batch, values: dict[str, set | None]) -> None:
    """Add the batch's distinct values of each narrowing candidate (None once too many)."""
    for key, seen in list(values.items()):
        if seen is None:
            continue
        seen.update(pc.unique(batch.column(key).drop_null()).to_pylist())
        if len(seen) > MAX_NARROWING_VALUES:
            values[key] = None


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
    for key in keys:
        where.append(sql.SQL(f"(incoming.{key}) = (existing.{key})"))
    # By ctid: the TID scan sorts them, so the heap is visited in its order. Deleting in
    # the join's order thrashed the buffer cache (1M re-written rows: 19 s against 9 s).
    superseded = sql.SQL(
        "select existing.ctid from {target} as existing, {target} as incoming where "
    ).format(target=target) + sql.SQL(" and ").join(where)
    return sql.SQL("delete from {target} where ctid = any(array({superseded}))").format(
        target=target, superseded=superseded
    )
