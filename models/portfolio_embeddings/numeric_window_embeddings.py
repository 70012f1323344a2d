"""numeric_window_embeddings: one vector per selected (portfolio_id, as_of_date).

Thin on purpose: read the features as Arrow, hand them to python_encoders (where all
the numerics live and are unit-tested), and hand the rows to the writer as an Arrow
reader, chunk by chunk, so that the vectors of a million portfolios never sit in memory
all at once. Everything runs lazily, as the writer pulls the rows.
Only this run's keys in the shared table are replaced, and only these columns are
written: by the keyed_replace incremental strategy (macros/keyed_replace.sql) on the
embedded target, by a binary COPY streamed from py_write_table on the postgres target
(portfolio_embeddings/pg_keyed_copy.py), which stores each chunk while the next is encoded.
"""

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from python_encoders import FeatureBatch, get_card, iter_encode

# States per encoded chunk. Several chunks are in flight at once (the encoder's, DuckDB's,
# the COPY's): 16k keeps them to a few hundred MB where 65k pushed a 1M run past 3 GiB.
CHUNK_ROWS = 16_384
# States whose entries are fetched at once: the rows of one slice are stored while the
# next slice is fetched and encoded, and the 26M entries of a 1M run are never all in
# memory (in one piece, an embedded 1M run peaked at 2.7-3.3 GiB; in four, 2.2 GiB, in
# the same time). On PostgreSQL, smaller slices start the COPY sooner; embedded, each
# slice re-runs the staging view's deduplication, so fewer are better (eight: +12 s).
STATES_PER_FETCH = {"postgres": 131_072, "embedded": 262_144}
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


def _fetch_batch(cursor, entries_sql, first_state, n_states):
    """The usable features of states [first_state, first_state + n_states) as integer
    codes (state row within the slice, vocabulary index) + vocabulary.

    Reads the classified entries rather than the int_portfolio_features view: DuckDB
    pushes that view's `reject_reason is null` filter below the projection and
    classifies every JSON member twice (measured: 8.7 s instead of 3.8 s for 1M
    reports); rejects carry a null feature_value and are dropped here instead. The
    state range is written as literals: DuckDB prunes the scan of the reports by them,
    where a prepared parameter made a slice as slow as the whole. The result is
    fetched as one Arrow table (parallel; a streamed reader measured 2x slower) and
    names become codes by Arrow's dictionary encoding, so no Python object is ever
    made per entry.
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
    if table.column("feature_value").null_count:
        table = table.filter(pc.is_valid(table.column("feature_value")))
    names = pc.dictionary_encode(table.column("feature_name")).unify_dictionaries()
    vocabulary = names.chunk(0).dictionary.to_pylist() if names.num_chunks else []
    codes = [chunk.indices.to_numpy() for chunk in names.chunks]
    # The names' strings are the largest column (~0.6 GB at 1M reports): let them go
    # before the numeric columns are copied out, which lowers the run's peak RSS.
    table = table.drop_columns(["feature_name"])
    del names
    return FeatureBatch(
        n_rows=n_states,
        row_index=table.column("state_idx").to_numpy(),
        name_codes=np.concatenate(codes) if codes else np.empty(0, np.int32),
        names=tuple(vocabulary),
        values=table.column("feature_value").to_numpy(),
    )


def _encoded_chunks(card, cursor, entries_sql, n_states, states_per_fetch):
    """(first state, usable features per state, vectors) per chunk of CHUNK_ROWS states,
    fetching the entries states_per_fetch states at a time."""
    for first in range(0, n_states, states_per_fetch):
        batch = _fetch_batch(cursor, entries_sql, first, min(states_per_fetch, n_states - first))
        n_features = np.bincount(batch.row_index, minlength=batch.n_rows)
        vectors = iter_encode(card, batch, chunk_rows=CHUNK_ROWS)
        del batch  # the generator keeps the only reference: freed after its last chunk
        for start, stop, block in vectors:
            yield first + start, n_features[start:stop], block


def _output_batches(states, encoded, card, created_at):
    """Yield the output rows as Arrow record batches, one chunk of states each.

    Built column-wise in Arrow: the vectors go from numpy to Arrow without a copy and
    never pass through DuckDB (on the postgres target the batches are encoded for COPY
    as they are), and no Python runs per row.
    """
    width = card.dim * 4
    spec_head, spec_middle = _window_spec_pieces(card)
    for start, n_features, block in encoded:
        # A state with no usable feature gets no vector (portfolio_feature_rejects
        # says why), so those rows are skipped rather than stored as zeros.
        keep = np.flatnonzero(n_features > 0)
        n = len(keep)
        block = np.ascontiguousarray(block[keep])
        picked = states.slice(start, len(n_features)).take(pa.array(keep))
        offsets = np.arange(n + 1, dtype=np.int32) * width
        window_spec = pc.binary_join_element_wise(
            spec_head,
            picked.column("report_id_json"),
            spec_middle,
            pa.array(n_features[keep]).cast(pa.string()),
            "}",
            "",  # the separator
        )
        yield pa.record_batch(
            [
                pa.repeat(pa.scalar("PORTFOLIO"), n),
                picked.column("portfolio_id").combine_chunks(),
                window_spec.combine_chunks(),
                picked.column("as_of_date").combine_chunks(),
                pa.repeat(pa.scalar(card.model_id), n),
                pa.Array.from_buffers(
                    pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(block)]
                ),
                pa.nulls(n, pa.string()),
                pa.repeat(pa.scalar(created_at, OUTPUT_SCHEMA.field("created_at").type), n),
            ],
            schema=OUTPUT_SCHEMA,
        )


def _window_spec_pieces(card):
    """window_spec is the compact JSON object head + report_id + middle + n_features + "}":
    the state's report_id comes as a JSON string from DuckDB's to_json (escaped there),
    n_features from the encoder, the rest is the same for every row of the run."""
    run_constants = json.dumps(
        {
            "model_id": card.model_id,
            "encoder_kind": card.kind,
            "encoder_spec_hash": card.spec_hash,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    head = '{"entity_type":"PORTFOLIO","window_days":1,"report_id":'
    middle = "," + run_constants[1:-1] + ',"n_features":'
    return head, middle


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
            "select portfolio_id, as_of_date, cast(to_json(report_id) as varchar) "
            "as report_id_json from reports order by state_idx",
        )
        .to_arrow_table()
    )
    (catalog_type,) = session.execute(
        "select type from duckdb_databases() where database_name = ?", [dbt.this.database]
    ).fetchone()
    cursor = session.cursor()  # the session's connection is busy while the rows stream
    # one created_at for the whole run, as one INSERT would have
    created_at = cursor.sql("select current_timestamp").fetchone()[0]
    encoded = _encoded_chunks(
        card,
        cursor,
        dbt.ref("int_portfolio_feature_entries").sql_query(),
        states.num_rows,
        STATES_PER_FETCH["postgres" if catalog_type == "postgres" else "embedded"],
    )
    return pa.RecordBatchReader.from_batches(
        OUTPUT_SCHEMA, _output_batches(states, encoded, card, created_at)
    )
