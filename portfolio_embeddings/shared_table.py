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
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from portfolio_embeddings import table_slice
from portfolio_embeddings.postgres_copy import KeyedCopyResult, keyed_copy
from portfolio_embeddings.sql import sql_literal
from portfolio_embeddings.vector_fill import VectorFill
from portfolio_embeddings.vector_fill import quote as _quote

# Rows per Arrow batch read from a DuckDB relation: one COPY block (~27 MB of vectors).
BATCH_ROWS = 16_384
APPLICATION = "portfolio_embeddings"
# String compressions DuckDB would try on every row group of the write: none fits random
# float32 bytes, and trying them costs about half the write (docs/performance.md).
SKIPPED_COMPRESSIONS = ("dictionary", "fsst", "dict_fsst")


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
    vector_from: dict | None = None,
) -> int:
    """Replace the rows of `database.schema.table` that have the keys of `model_output`
    (an Arrow reader or table, a DuckDB relation, a DataFrame) by those rows. A row
    whose `tombstone_column` is null only deletes what is stored under its key.

    With `vector_from` ({"table": name, "match": {its column: expression on a row}}),
    the rows have no vector column: each row takes the vector of its matching row of
    that table (same database and schema) inside the database, and a row without a
    match only deletes its key.

    Returns the number of rows written.
    """
    fill = None
    if vector_from:  # qualified as the engine's own SQL names it
        catalog = [schema] if engine == "postgres" else [database, schema]
        fill = VectorFill(_qualified(*catalog, vector_from["table"]), vector_from["match"])
        tombstone_column = None
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
                vector_fill=fill,
            )
            return result.inserted
        if engine == "duckdb":
            with _string_compressions_skipped(con):
                return _duckdb_keyed_replace(
                    con, registered, database, schema, table, keys, tombstone_column, fill
                )
        raise ValueError(f"shared_table: no writer for engine {engine!r}")
    finally:
        con.unregister(registered)


def _duckdb_keyed_replace(
    con, registered: str, database, schema, table, keys, tombstone_column, fill
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
        if fill is not None:
            insert = fill.insert_sql(target, batch, columns)
        else:
            alive = f"where {_quote(tombstone_column)} is not null" if tombstone_column else ""
            insert = f"insert into {target} ({column_list}) select {column_list} from {batch}"
            insert += f" {alive}"
        (written,) = con.execute(insert).fetchone()
        con.execute(f"drop table {batch}")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return written


@contextmanager
def _string_compressions_skipped(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's string compressions off for the write, the user's setting back after.
    The setting is global; a DuckDB target runs one model at a time (threads: 1)."""
    (before,) = con.execute("select current_setting('disabled_compression_methods')").fetchone()
    skipped = {name.strip().lower() for name in before.split(",") if name.strip()}
    skipped |= set(SKIPPED_COMPRESSIONS)
    con.execute("set disabled_compression_methods = ?", [",".join(sorted(skipped))])
    try:
        yield
    finally:
        con.execute("set disabled_compression_methods = ?", [before])


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
