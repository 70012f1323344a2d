"""keyed_replace into a PostgreSQL table, streamed: how a Python model's rows reach the
shared table on the postgres target (called from py_write_table, macros/python_model_write.sql).

One PostgreSQL transaction:
  1. a transaction-level advisory lock serialises concurrent runs (released at commit
     or rollback; READ COMMITTED, so the delete sees what a run we waited for committed);
  2. the rows are sent as a binary COPY straight into the table while the model is
     still producing them: PostgreSQL stores one chunk while the next is encoded;
  3. the rows this run replaces are deleted: those with a key equal to one of the rows
     this transaction inserted (xmin = our transaction id) that are not among them;
  4. commit. A failure anywhere (a constraint violation, a killed process, a lost
     connection) rolls all of it back.
Why not DuckDB's own INSERT into the attached table: for a table with a jsonb column it
falls back to a text COPY (client-bound, ~40 s per million rows), and a staging table
made PostgreSQL store every row twice. Measured at 1M rows: this path 16 s for the
COPY overlapped with the encoding, against 5 s + 15 s after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from portfolio_dbt.pg_binary_copy import SIGNATURE, TRAILER, encode_batch

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
            with cur.copy(copy_sql, writer=QueuedLibpqWriter(cur)) as copy:
                copy.write(SIGNATURE)
                for batch in _read_ahead(rows):
                    _collect_distinct(batch, values)
                    copy.write(encode_batch(batch, types))
                    inserted += batch.num_rows
                copy.write(TRAILER)
            narrowing = {k: sorted(v) for k, v in values.items() if v}
            deleted = 0
            if inserted:
                cur.execute(_delete_superseded(target, keys, narrowing), narrowing)
                deleted = cur.rowcount
        pg.commit()
    return KeyedCopyResult(inserted, deleted, narrowing)


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
    for side in ("existing", "incoming"):
        for column in narrowing:
            where.append(
                sql.SQL("{} = any({})").format(
                    sql.Identifier(side, column), sql.Placeholder(column)
                )
            )
    for key in keys:
        where.append(sql.SQL(f"(incoming.{key}) = (existing.{key})"))
    return sql.SQL("delete from {target} as existing using {target} as incoming where ").format(
        target=target
    ) + sql.SQL(" and ").join(where)
