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

import psycopg
import pyarrow as pa
from psycopg import sql

from portfolio_embeddings import table_slice
from portfolio_embeddings.postgres_copy.binary_format import SIGNATURE, TRAILER, encode_batch
from portfolio_embeddings.postgres_copy.keyed_copy import (
    KeyedCopyResult,
    _column_types,
    _copy_into,
    _in_slice,
    _key_matches,
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
    with psycopg.connect(dsn, application_name=application_name) as pg:
        pg.isolation_level = psycopg.IsolationLevel.READ_COMMITTED  # as in keyed_copy
        pg.execute("select pg_advisory_xact_lock(hashtext(%s))", [lock_name])
        pg_types = _column_types(pg, schema, table)
        missing = [c for c in columns if c not in pg_types]
        if missing:
            raise ValueError(f"{schema}.{table} has no column(s) {missing}")
        types = [pg_types[c] for c in columns]
        values = table_slice.start(keys, columns)
        with pg.cursor() as cur:
            cur.execute(
                sql.SQL(
                    "create temporary table {} on commit drop as select {} from {} with no data"
                ).format(incoming, sql.SQL(", ").join(map(sql.Identifier, columns)), target)
            )
            n_rows = 0
            with cur.copy(_copy_into(incoming, columns)) as copy:
                copy.write(SIGNATURE)
                for batch in rows:
                    table_slice.collect_distinct(batch, values)
                    copy.write(encode_batch(batch, types))
                    n_rows += batch.num_rows
                copy.write(TRAILER)
            if not n_rows:
                return KeyedCopyResult(0, 0, {}, delete_skipped=True)
            cur.execute(sql.SQL("analyze {}").format(incoming))
            # as in keyed_copy: a hash join scans each side once
            cur.execute("set local enable_nestloop = off")
            narrowing = table_slice.narrowing(values)
            where = _in_slice(narrowing, "existing") + _key_matches(keys)
            # by ctid, as in keyed_copy: the TID scan visits the heap in its order
            replaced = sql.SQL("select existing.ctid from {} as existing, {} as incoming where ")
            replaced = replaced.format(target, incoming) + sql.SQL(" and ").join(where)
            cur.execute(
                sql.SQL("delete from {} where ctid = any(array({}))").format(target, replaced),
                narrowing,
            )
            deleted = cur.rowcount
            target_name = target.as_string(pg)
            cur.execute(sql.SQL(fill.insert_sql(target_name, INCOMING, columns)))
            inserted = cur.rowcount
        pg.commit()
    return KeyedCopyResult(inserted, deleted, narrowing)
