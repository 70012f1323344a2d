"""keyed_copy for rows that take their vector from another table of the same database
(portfolio_embeddings.vector_fill): in one transaction, under the same advisory lock,

  1. the rows (no vectors: small) go into a temporary table by a binary COPY;
  2. the table's rows with their keys are deleted;
  3. the rows are inserted with the vectors of their matches, by one INSERT ... SELECT
     in the server: no vector crosses the connection. A row without a match was only
     a delete.

Why: docs/performance.md ("The joint rows copy their vectors inside the database").
"""

from __future__ import annotations

import pyarrow as pa
from psycopg import sql

from portfolio_embeddings import table_slice
from portfolio_embeddings.postgres_copy.keyed_copy import (
    KeyedCopyResult,
    _column_types_of,
    _copy_into_temporary,
    _delete_by_ctid,
    _in_slice,
    _key_matches,
    _locked_connection,
)
from portfolio_embeddings.vector_fill import VectorFill

INCOMING = "keyed_fill_incoming"


def keyed_fill(
    rows: pa.RecordBatchReader,
    dsn: str,
    schema: str,
    table: str,
    keys: list[str],
    lock_name: str,
    application_name: str,
    fill: VectorFill,
) -> KeyedCopyResult:
    """Replace the keys of the `rows` in `schema.table`, each row with the vector of its
    match in `fill.table`, in one transaction."""
    target = sql.Identifier(schema, table)
    incoming = sql.Identifier(INCOMING)
    columns = rows.schema.names
    with _locked_connection(dsn, application_name, lock_name) as pg:
        types = _column_types_of(pg, schema, table, columns)
        values = table_slice.start(keys, columns)

        def noted(batches):  # the key values of each batch as it is sent
            for batch in batches:
                table_slice.collect_distinct(batch, values)
                yield batch

        with pg.cursor() as cur:
            if not _copy_into_temporary(cur, incoming, target, columns, types, noted(rows)):
                return KeyedCopyResult(0, 0, {}, delete_skipped=True)
            cur.execute(sql.SQL("analyze {}").format(incoming))
            # as in keyed_copy: a hash join scans each side once
            cur.execute("set local enable_nestloop = off")
            narrowing = table_slice.narrowing(values)
            where = _in_slice(narrowing, "existing") + _key_matches(keys)
            replaced = sql.SQL("select existing.ctid from {} as existing, {} as incoming where ")
            replaced = replaced.format(target, incoming) + sql.SQL(" and ").join(where)
            cur.execute(_delete_by_ctid(target, replaced), narrowing)
            deleted = cur.rowcount
            cur.execute(sql.SQL(fill.insert_sql(target.as_string(pg), INCOMING, columns)))
            inserted = cur.rowcount
        pg.commit()
    return KeyedCopyResult(inserted, deleted, narrowing)
