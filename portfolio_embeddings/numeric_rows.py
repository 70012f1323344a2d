"""The rows of numeric_window_embeddings: one vector per portfolio state that has at
least one usable feature, and a tombstone (the key, no vector) for each state that has
none, so that its stale row goes; built lazily, a chunk of states at a time, as Arrow
batches.

The dbt model (models/marts/numeric_window_embeddings.py) hands over its refs; the
numerics live in python_encoders. Nothing here runs per row: names become integer codes
by Arrow's dictionary encoding, vectors go from numpy to Arrow without a copy, and
window_spec is assembled column-wise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from python_encoders import FeatureBatch, ModelCard, iter_encode

if TYPE_CHECKING:  # a Spark cluster that runs spark_rows has no duckdb
    import duckdb

ENTITY_TYPE = "PORTFOLIO"
# The shared table's columns this model writes (embedding_id is the table's to fill).
OUTPUT_SCHEMA = pa.schema(
    [
        ("entity_type", pa.string()),
        ("entity_id", pa.string()),
        ("window_spec", pa.string()),
        ("as_of_date", pa.date32()),
        ("model_id", pa.string()),
        ("vector", pa.binary()),
        ("vector_ref", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)


def numeric_embedding_rows(
    session: duckdb.DuckDBPyConnection,
    states: duckdb.DuckDBPyRelation,
    entries_sql: str,
    card: ModelCard,
    *,
    chunk_rows: int,
    states_per_fetch: int,
) -> pa.RecordBatchReader:
    """The output rows of the states in `states` (int_portfolio_states), encoded from
    the usable entries (feature_value not null) that `entries_sql` selects
    (int_portfolio_feature_entries).

    Parameters
    ----------
    session : the dbt session's DuckDB connection.
    states : relation with state_idx, portfolio_id, as_of_date, report_id.
    entries_sql : SQL of a relation with state_idx, feature_name, feature_value (null for
        a rejected entry).
    card : the model card that encodes.
    chunk_rows : states encoded at once.
    states_per_fetch : states whose features are fetched at once.

    Returns
    -------
    A reader of OUTPUT_SCHEMA batches, one chunk of states each; nothing is computed
    until it is read.
    """
    state_keys = states.query(
        "run_states",
        "select state_idx, portfolio_id, as_of_date, cast(to_json(report_id) as varchar) "
        "as report_id_json, source_fingerprint from run_states order by state_idx",
    ).to_arrow_table()
    check_state_numbering(state_keys)
    cursor = session.cursor()  # the session's connection is busy while the rows stream
    created_at = cursor.sql("select current_timestamp").fetchone()[0]  # one per run
    encoded = encoded_chunks(
        card, cursor, entries_sql, state_keys.num_rows, chunk_rows, states_per_fetch
    )
    return pa.RecordBatchReader.from_batches(
        OUTPUT_SCHEMA, output_batches(state_keys, encoded, card, created_at)
    )


def check_state_numbering(state_keys: pa.Table) -> None:
    """Row i of the embedding matrix is the state with state_idx i and its vector goes
    back to that state's key by position: anything but 0..n-1 in order, once each,
    would put a vector under another state's key. Fail the run instead."""
    numbers = state_keys.column("state_idx").to_numpy()
    if not np.array_equal(numbers, np.arange(len(numbers))):
        raise ValueError(
            "int_portfolio_states_to_encode.state_idx is not 0..n-1, once each: "
            "refusing to write vectors that could land under another state's key"
        )
    keys = state_keys.select(["portfolio_id", "as_of_date"])
    if keys.group_by(["portfolio_id", "as_of_date"]).aggregate([]).num_rows != keys.num_rows:
        raise ValueError(
            "int_portfolio_states_to_encode holds a (portfolio_id, as_of_date) twice: "
            "refusing to write two vectors under one key"
        )


def fetch_features(cursor, entries_sql: str, first_state: int, n_states: int) -> FeatureBatch:
    """The features of states [first_state, first_state + n_states) as a FeatureBatch
    (rows relative to first_state).

    The state range is written as literals: DuckDB prunes the scan by them, not by
    parameters. One Arrow table per slice (a streamed reader is slower).
    """
    table = cursor.sql(
        f"""
        select
            cast(state_idx - {int(first_state)} as integer) as state_idx,
            feature_name,
            feature_value
        from ({entries_sql})
        where state_idx >= {int(first_state)} and state_idx < {int(first_state + n_states)}
        """
    ).to_arrow_table()
    return feature_batch(table, n_states)


def feature_batch(table: pa.Table, n_states: int) -> FeatureBatch:
    """The FeatureBatch of an Arrow table of (state_idx relative to the first state,
    feature_name, feature_value; null for a rejected entry): names become integer codes
    by Arrow's dictionary encoding. Shared with the Spark path (spark_rows)."""
    if table.column("feature_value").null_count:
        table = table.filter(pc.is_valid(table.column("feature_value")))
    names = pc.dictionary_encode(table.column("feature_name")).unify_dictionaries()
    vocabulary = names.chunk(0).dictionary.to_pylist() if names.num_chunks else []
    codes = [chunk.indices.to_numpy() for chunk in names.chunks]
    # the names are the largest column: free them before the numbers are copied out
    table = table.drop_columns(["feature_name"])
    del names
    return FeatureBatch(
        n_rows=n_states,
        row_index=table.column("state_idx").to_numpy(),
        name_codes=np.concatenate(codes) if codes else np.empty(0, np.int32),
        names=tuple(vocabulary),
        values=table.column("feature_value").to_numpy(),
    )


def encoded_chunks(
    card: ModelCard,
    cursor,
    entries_sql: str,
    n_states: int,
    chunk_rows: int,
    states_per_fetch: int,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first state, usable features per state, vectors) per chunk of chunk_rows
    states, fetching the features states_per_fetch states at a time."""
    for first in range(0, n_states, states_per_fetch):
        batch = fetch_features(cursor, entries_sql, first, min(states_per_fetch, n_states - first))
        n_features = np.bincount(batch.row_index, minlength=batch.n_rows)
        vectors = iter_encode(card, batch, chunk_rows=chunk_rows)
        del batch  # the generator keeps the only reference: freed after its last chunk
        for start, stop, block in vectors:
            yield first + start, n_features[start:stop], block


def output_batches(
    state_keys: pa.Table, encoded, card: ModelCard, created_at
) -> Iterator[pa.RecordBatch]:
    """OUTPUT_SCHEMA batches per encoded chunk: the rows of the states with a usable
    feature, then a tombstone (null vector: the writer only deletes its key) for each
    state without one (portfolio_feature_rejects says why), never a zero vector."""
    width = card.dim * 4
    spec_head, spec_fingerprint, spec_middle = window_spec_pieces(card)
    created = pa.scalar(created_at, OUTPUT_SCHEMA.field("created_at").type)
    for start, n_features, block in encoded:
        chunk = state_keys.slice(start, len(n_features))
        empty = np.flatnonzero(n_features == 0)
        keep = np.flatnonzero(n_features > 0)
        n = len(keep)
        block = np.ascontiguousarray(block[keep])
        picked = chunk.take(pa.array(keep))
        offsets = np.arange(n + 1, dtype=np.int32) * width
        window_spec = pc.binary_join_element_wise(
            spec_head,
            picked.column("report_id_json"),
            spec_fingerprint,
            picked.column("source_fingerprint"),
            spec_middle,
            pa.array(n_features[keep]).cast(pa.string()),
            "}",
            "",  # the separator
        )
        if len(empty):
            yield tombstones(chunk.take(pa.array(empty)), card)
        yield pa.record_batch(
            [
                pa.repeat(pa.scalar(ENTITY_TYPE), n),
                picked.column("portfolio_id").combine_chunks(),
                window_spec.combine_chunks(),
                picked.column("as_of_date").combine_chunks(),
                pa.repeat(pa.scalar(card.model_id), n),
                pa.Array.from_buffers(
                    pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(block)]
                ),
                pa.nulls(n, pa.string()),
                pa.repeat(created, n),
            ],
            schema=OUTPUT_SCHEMA,
        )


def tombstones(states: pa.Table, card: ModelCard) -> pa.RecordBatch:
    """Rows that only carry the key of each state: the writer deletes what is stored
    under it and inserts nothing."""
    n = states.num_rows
    return pa.record_batch(
        [
            pa.repeat(pa.scalar(ENTITY_TYPE), n),
            states.column("portfolio_id").combine_chunks(),
            pa.nulls(n, pa.string()),
            states.column("as_of_date").combine_chunks(),
            pa.repeat(pa.scalar(card.model_id), n),
            pa.nulls(n, pa.binary()),
            pa.nulls(n, pa.string()),
            pa.nulls(n, OUTPUT_SCHEMA.field("created_at").type),
        ],
        schema=OUTPUT_SCHEMA,
    )


def window_spec_pieces(card: ModelCard) -> tuple[str, str, str]:
    """window_spec is the compact JSON object head + report_id + fingerprint piece +
    source_fingerprint + middle + n_features + "}": the report_id arrives as a JSON
    string (DuckDB's to_json escaped it), the fingerprint is hex, n_features from the
    encoder; the pieces are json.dumps of the run's constants."""
    head = json.dumps({"entity_type": ENTITY_TYPE, "window_days": 1}, separators=(",", ":"))
    run_constants = json.dumps(
        {
            "model_id": card.model_id,
            "encoder_kind": card.kind,
            "encoder_spec_hash": card.spec_hash,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return (
        head[:-1] + ',"report_id":',
        ',"source_fingerprint":"',
        '",' + run_constants[1:-1] + ',"n_features":',
    )
