"""Write a dbt Python model's rows into a table shared with other writers.

Called by the `shared_table` materialization (macros/materializations/shared_table.sql)
once the model has returned its rows. The rows replace exactly the rows of the table
with their keys, naming only the model's columns (the table fills the others, e.g. its
surrogate id), in one transaction: nothing else in the table changes, and a failure
leaves it as it was. Per engine:

- DuckDB: the rows go into a batch table in the target's catalog, then the rows they
  supersede are deleted and the batch inserted, all in one DuckDB transaction;
- PostgreSQL ATTACHed to DuckDB: a binary COPY streamed straight into the table
  (portfolio_embeddings.postgres_copy, docs/postgres.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import pyarrow as pa

from portfolio_embeddings import table_slice
from portfolio_embeddings.postgres_copy import KeyedCopyResult, keyed_copy
from portfolio_embeddings.sql import sql_literal

# Rows per Arrow batch read from a DuckDB relation: one COPY block (~27 MB of vectors).
BATCH_ROWS = 16_384
APPLICATION = "portfolio_embeddings"


def replace_keys(
    con: duckdb.DuckDBPyConnection,
    model_output,
    *,
    engine: str,
    database: str,
    schema: str,
    table: str,
    keys: list[str],
    tombstone_column: str | None = None,
) -> int:
    """Replace the rows of `database.schema.table` that have the keys of `model_output`
    (an Arrow reader or table, a DuckDB relation, a DataFrame) by those rows. A row
    whose `tombstone_column` is null only deletes what is stored under its key.

    Returns the number of rows written.
    """
    registered = f"__dbt_rows_{table}"
    con.register(registered, model_output)
    try:
        if engine == "postgres":
            result: KeyedCopyResult = keyed_copy(
                record_batches(con, model_output, registered),
                attached_dsn(con, database),
                schema=schema,
                table=table,
                keys=keys,
                lock_name=f"{APPLICATION}:{table}",
                application_name=APPLICATION,
                tombstone_column=tombstone_column,
            )
            return result.inserted
        if engine == "duckdb":
            return _duckdb_keyed_replace(
                con, registered, database, schema, table, keys, tombstone_column
            )
        raise ValueError(f"shared_table: no writer for engine {engine!r}")
    finally:
        con.unregister(registered)


def _duckdb_keyed_replace(
    con, registered: str, database, schema, table, keys, tombstone_column
) -> int:
    target = _qualified(database, schema, table)
    batch = _qualified(database, schema, f"{table}__dbt_batch")
    con.begin()
    try:
        # A plain table in the target's catalog, not TEMP: memory_limit can evict it to
        # the file, and one transaction cannot write two catalogs.
        con.execute(f"create table {batch} as select * from {registered}")
        if not con.execute(f"select exists (select 1 from {batch})").fetchone()[0]:
            con.rollback()  # nothing to replace: the run writes nothing
            return 0
        columns = [column for column, *_ in con.execute(f"describe {batch}").fetchall()]
        values = table_slice.start(keys, columns)
        for key in values:
            distinct = con.sql(
                f"select distinct {_quote(key)} from {batch} "
                f"where {_quote(key)} is not null limit {table_slice.MAX_NARROWING_VALUES + 1}"
            ).to_arrow_table()
            table_slice.add_values(values, key, distinct.column(0))
        in_slice = _in_slice(table_slice.narrowing(values))
        matches = " and ".join(f"(incoming.{key}) = (existing.{key})" for key in keys)
        con.execute(
            f"delete from {target} as existing where {in_slice} exists "
            f"(select 1 from {batch} as incoming where {matches})"
        )
        column_list = ", ".join(map(_quote, columns))
        alive = f"where {_quote(tombstone_column)} is not null" if tombstone_column else ""
        (written,) = con.execute(
            f"insert into {target} ({column_list}) select {column_list} from {batch} {alive}"
        ).fetchone()
        con.execute(f"drop table {batch}")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return written


def _in_slice(narrowing: dict[str, list]) -> str:
    """`existing.<column> in (<literals>) and ` per narrowing column whose values can be
    written as literals (DuckDB prunes row groups by literals, not by parameters)."""
    predicates = []
    for column, column_values in narrowing.items():
        literals = [_literal(value) for value in column_values]
        if all(literals):
            predicates.append(f"existing.{_quote(column)} in ({', '.join(literals)}) and ")
    return "".join(predicates)


def _literal(value) -> str | None:
    """A SQL literal for a date or a text without NUL; None for anything else."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return f"date '{value.isoformat()}'"
    if isinstance(value, str) and "\x00" not in value:
        return sql_literal(value)
    return None


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _qualified(*parts: str) -> str:
    return ".".join(_quote(part) for part in parts)


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

    The query behind the latter starts at the first batch read: DuckDB silently ends a
    connection's streamed result when the connection runs its next query, so nothing
    may run on `con` in between.
    """
    if isinstance(model_output, pa.RecordBatchReader):
        return model_output
    relation = con.sql(f'select * from "{registered_name}"')
    schema = relation.limit(0).to_arrow_table().schema
    return pa.RecordBatchReader.from_batches(schema, _streamed(relation))


def _streamed(relation: duckdb.DuckDBPyRelation) -> Iterator[pa.RecordBatch]:
    yield from relation.to_arrow_reader(BATCH_ROWS)
