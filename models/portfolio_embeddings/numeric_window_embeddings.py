"""numeric_window_embeddings: one vector per selected (portfolio_id, as_of_date).

Thin on purpose: read the tidy features as Arrow, hand them to python_encoders (where
all the numerics live and are unit-tested), and stream the rows back to DuckDB in
chunks so that peak memory stays bounded at a million portfolios. The keyed_replace
incremental strategy (macros/keyed_replace.sql) then replaces exactly this run's keys
in the shared table and inserts only these columns.
"""

import numpy as np
import pyarrow as pa

from python_encoders import FeatureBatch, as_le_float32, encode, get_card

CHUNK_ROWS = 65_536


def _sql_literal(text):
    return "'" + str(text).replace("'", "''") + "'"


def _fetch_batch(features, states):
    """Features as integer codes (state row, vocabulary index) plus the vocabulary."""
    vocabulary = features.query(
        "features",
        "select distinct feature_name from features order by feature_name",
    ).fetchnumpy()["feature_name"]
    names = tuple(str(name) for name in vocabulary)
    # Names are mapped to codes in SQL (a join against a few hundred names) so that no
    # per-entry Python object is ever created.
    coded = features.query(
        "features",
        """
        with vocabulary as (
            select feature_name, cast(row_number() over (order by feature_name) - 1 as integer) as code
            from (select distinct feature_name from features)
        )
        select cast(features.state_idx as bigint) as state_idx, vocabulary.code, features.feature_value
        from features join vocabulary using (feature_name)
        """,
    ).fetchnumpy()
    return FeatureBatch(
        n_rows=len(states),
        row_index=np.asarray(coded["state_idx"], dtype=np.int64),
        name_codes=np.asarray(coded["code"], dtype=np.int64),
        names=names,
        values=np.asarray(coded["feature_value"], dtype=np.float64),
    )


def _vector_batches(states, batch, card, schema):
    """Encode and yield one Arrow record batch per chunk of portfolio states."""
    n_features = np.bincount(batch.row_index, minlength=batch.n_rows)
    vectors = encode(card, batch, chunk_rows=CHUNK_ROWS)
    vectors = as_le_float32(vectors)
    encoded = np.flatnonzero(n_features > 0)  # states with no usable feature are rejects
    for start in range(0, len(encoded), CHUNK_ROWS):
        rows = encoded[start : start + CHUNK_ROWS]
        block = np.ascontiguousarray(vectors[rows])
        vector_column = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(card.dim * 4), len(rows), [None, pa.py_buffer(block)]
        )
        picked = states.take(pa.array(rows))
        chunk = pa.table(
            [
                picked["portfolio_id"],
                picked["as_of_date"],
                picked["report_id"],
                pa.array(n_features[rows], type=pa.int64()),
                vector_column,
            ],
            names=schema.names,
        )
        yield from chunk.cast(schema).to_batches()


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="keyed_replace",
        unique_key=["entity_type", "entity_id", "as_of_date", "model_id"],
        full_refresh=False,
        on_schema_change="ignore",
    )
    card = get_card(dbt.config.get("model_id"))

    states = (
        dbt.ref("stg_portfolio_risk_reports")
        .query(
            "reports",
            "select portfolio_id, as_of_date, report_id from reports order by state_idx",
        )
        .arrow()
    )
    if isinstance(states, pa.RecordBatchReader):
        states = states.read_all()
    batch = _fetch_batch(dbt.ref("int_portfolio_features"), states)

    schema = pa.schema(
        [
            ("portfolio_id", pa.string()),
            ("as_of_date", pa.date32()),
            ("report_id", pa.string()),
            ("n_features", pa.int64()),
            ("vector", pa.binary(card.dim * 4)),
        ]
    )
    reader = pa.RecordBatchReader.from_batches(
        schema, _vector_batches(states, batch, card, schema)
    )
    session.register("encoded_portfolio_vectors", reader)
    return session.sql(
        f"""
        select
            'PORTFOLIO' as entity_type,
            portfolio_id as entity_id,
            json_object(
                'entity_type', 'PORTFOLIO',
                'window_days', 1,
                'report_id', report_id,
                'model_id', {_sql_literal(card.model_id)},
                'encoder_kind', {_sql_literal(card.kind)},
                'encoder_spec_hash', {_sql_literal(card.spec_hash)},
                'n_features', n_features
            ) as window_spec,
            as_of_date,
            {_sql_literal(card.model_id)} as model_id,
            cast(vector as blob) as vector,
            cast(null as varchar) as vector_ref,
            current_timestamp as created_at
        from encoded_portfolio_vectors
        """
    )
