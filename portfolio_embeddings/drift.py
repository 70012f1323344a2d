"""Drift of the portfolio space: each portfolio's step from its own previous stored
date (distance and cosine between the two vectors; none on its first date) and, per
date, the dispersion of the portfolios (the mean distance to the date's centroid).

Rows are recomputed only where they are not current (docs/analytics.md): a step when
its state or the previous one was written after it, or when the previous date changed;
a date's dispersion when its vectors changed. A row whose state or date has no vector
any more gets a tombstone (null computed_at), so the writer deletes it.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_embeddings.sql import sql_literal
from portfolio_embeddings.vector_reads import (
    TIMESTAMP,
    date_range,
    portfolio_vector_keys,
    portfolio_vectors,
    run_timestamp,
    vector_batches,
)

DRIFT_SCHEMA = pa.schema(
    [
        ("portfolio_id", pa.string()),
        ("model_id", pa.string()),
        ("as_of_date", pa.date32()),
        ("previous_as_of_date", pa.date32()),
        ("step_distance", pa.float64()),
        ("step_cosine", pa.float64()),
        ("computed_at", TIMESTAMP),
    ]
)
DISPERSION_SCHEMA = pa.schema(
    [
        ("model_id", pa.string()),
        ("as_of_date", pa.date32()),
        ("n_states", pa.int32()),
        ("dispersion", pa.float64()),
        ("computed_at", TIMESTAMP),
    ]
)


def drift_rows(
    session: duckdb.DuckDBPyConnection,
    numeric_sql: str,
    stored_sql: str,
    model_id: str,
    rebuild: bool,
) -> pa.RecordBatchReader:
    """The step rows to write: those of the states whose stored step is not current, and
    a tombstone per stored step whose state has no vector any more."""
    cursor = session.cursor()
    now = run_timestamp(cursor)
    vectors_sql = portfolio_vectors(numeric_sql, model_id)
    cursor.execute(
        f"""
        create or replace temp table pe_steps as
        with states as (
            select
                portfolio_id,
                as_of_date,
                created_at,
                lag(as_of_date) over by_portfolio as previous_as_of_date,
                lag(created_at) over by_portfolio as previous_created_at
            from ({portfolio_vector_keys(numeric_sql, model_id)}) as stored
            window by_portfolio as (partition by portfolio_id order by as_of_date)
        ),
        stored_steps as (
            -- a key held twice (a torn commit) is not current: rewritten once
            select
                portfolio_id,
                as_of_date,
                any_value(previous_as_of_date) as previous_as_of_date,
                case when count(*) = 1 then min(computed_at) end as computed_at
            from ({stored_sql}) as stored
            where model_id = {sql_literal(model_id)}
            group by portfolio_id, as_of_date
        )
        select
            coalesce(states.portfolio_id, stored_steps.portfolio_id) as portfolio_id,
            coalesce(states.as_of_date, stored_steps.as_of_date) as as_of_date,
            states.previous_as_of_date,
            states.portfolio_id is null as is_tombstone
        from states
        full outer join stored_steps
            on
                states.portfolio_id = stored_steps.portfolio_id
                and states.as_of_date = stored_steps.as_of_date
        where
            states.portfolio_id is null
            or {bool(rebuild)}
            or stored_steps.computed_at is null
            or stored_steps.previous_as_of_date is distinct from states.previous_as_of_date
            or greatest(states.created_at, states.previous_created_at) > stored_steps.computed_at
        """
    )
    scope = cursor.sql(
        "select min(as_of_date), max(as_of_date), min(previous_as_of_date), "
        "max(previous_as_of_date) from pe_steps where not is_tombstone"
    ).fetchone()
    current = pa.array([day for day in scope[:2] if day is not None], pa.date32())
    previous = pa.array([day for day in scope[2:] if day is not None], pa.date32())
    static = cursor.sql(
        f"""
        select portfolio_id, {sql_literal(model_id)} as model_id, as_of_date,
            previous_as_of_date, cast(null as double) as step_distance,
            cast(null as double) as step_cosine,
            case when not is_tombstone then cast($now as timestamptz) end as computed_at
        from pe_steps
        where is_tombstone or previous_as_of_date is null
        """,
        params={"now": now},
    ).to_arrow_table()
    steps_sql = f"""
        select pe_steps.portfolio_id, pe_steps.as_of_date, pe_steps.previous_as_of_date,
            state.vector, previous.vector as previous_vector
        from pe_steps
        inner join ({vectors_sql}) as state
            on state.portfolio_id = pe_steps.portfolio_id and state.as_of_date = pe_steps.as_of_date
        inner join ({vectors_sql}) as previous
            on
                previous.portfolio_id = pe_steps.portfolio_id
                and previous.as_of_date = pe_steps.previous_as_of_date
        where
            not pe_steps.is_tombstone
            and state.as_of_date {date_range(current)}
            and previous.as_of_date {date_range(previous)}
    """

    def batches():
        yield from static.cast(DRIFT_SCHEMA).to_batches()
        if len(previous) == 0:  # no step to compute: no vector is read (a first date)
            return
        for keys, (state, before) in vector_batches(
            cursor, steps_sql, ("vector", "previous_vector")
        ):
            step, cosine = _steps(state, before)
            n = keys.num_rows
            yield pa.record_batch(
                [keys.column("portfolio_id"), pa.repeat(pa.scalar(model_id), n),
                 keys.column("as_of_date"), keys.column("previous_as_of_date"),
                 pa.array(step), pa.array(cosine), pa.repeat(pa.scalar(now, TIMESTAMP), n)],
                schema=DRIFT_SCHEMA,
            )  # fmt: skip

    return pa.RecordBatchReader.from_batches(DRIFT_SCHEMA, batches())


def _steps(state: np.ndarray, before: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise Euclidean distance and cosine between two float32 matrices, in float64."""
    a, b = state.astype(np.float64), before.astype(np.float64)
    difference = a - b
    distance = np.sqrt(np.einsum("ij,ij->i", difference, difference))
    norms = np.sqrt(np.einsum("ij,ij->i", a, a) * np.einsum("ij,ij->i", b, b))
    return distance, np.einsum("ij,ij->i", a, b) / np.maximum(norms, 1e-300)


def dispersion_rows(
    session: duckdb.DuckDBPyConnection,
    numeric_sql: str,
    stored_sql: str,
    model_id: str,
    rebuild: bool,
) -> pa.Table:
    """The dispersion rows to write: per date whose vectors changed since its stored row
    (or that has none), n_states and the mean distance to the date's centroid; a
    tombstone per stored date without vectors."""
    cursor = session.cursor()
    now = run_timestamp(cursor)
    vectors_sql = portfolio_vectors(numeric_sql, model_id)
    scope = cursor.sql(
        f"""
        with dates as (
            select as_of_date, count(*) as n_states, max(created_at) as newest
            from ({portfolio_vector_keys(numeric_sql, model_id)}) as stored
            group by as_of_date
        ),
        stored_dates as (
            -- a date held twice (a torn commit) is not current: rewritten once
            select
                as_of_date,
                any_value(n_states) as n_states,
                case when count(*) = 1 then min(computed_at) end as computed_at
            from ({stored_sql}) as stored
            where model_id = {sql_literal(model_id)}
            group by as_of_date
        )
        select
            coalesce(dates.as_of_date, stored_dates.as_of_date) as as_of_date,
            dates.as_of_date is null as is_tombstone
        from dates
        full outer join stored_dates on dates.as_of_date = stored_dates.as_of_date
        where
            dates.as_of_date is null
            or {bool(rebuild)}
            or stored_dates.computed_at is null
            or stored_dates.n_states <> dates.n_states
            or dates.newest > stored_dates.computed_at
        order by as_of_date
        """
    ).to_arrow_table()
    dead = scope.filter(scope.column("is_tombstone")).column("as_of_date").combine_chunks()
    dates = scope.filter(pc.invert(scope.column("is_tombstone"))).column("as_of_date")
    dates = dates.combine_chunks()
    n_states, dispersion = _dispersion(cursor, vectors_sql, dates)
    alive, n_dead = len(dates), len(dead)
    return pa.table(
        {
            "model_id": [model_id] * (alive + n_dead),
            "as_of_date": pa.concat_arrays([dates, dead]),
            "n_states": pa.concat_arrays(
                [pa.array(n_states, pa.int32()), pa.nulls(n_dead, pa.int32())]
            ),
            "dispersion": pa.concat_arrays(
                [pa.array(dispersion, pa.float64()), pa.nulls(n_dead, pa.float64())]
            ),
            "computed_at": pa.concat_arrays(
                [pa.repeat(pa.scalar(now, TIMESTAMP), alive), pa.nulls(n_dead, TIMESTAMP)]
            ),
        },
        schema=DISPERSION_SCHEMA,
    )


def _dispersion(cursor, vectors_sql: str, dates: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per date: the number of vectors and their mean distance to the date's centroid,
    in two passes over the vectors (the centroids, then the distances)."""
    n = np.zeros(len(dates), np.int64)
    if len(dates) == 0:
        return n, np.zeros(0)
    cursor.register("pe_dates", pa.table({"as_of_date": dates}))
    sql = f"""
        select as_of_date, vector from ({vectors_sql}) as stored
        where as_of_date {date_range(dates)} and as_of_date in (select as_of_date from pe_dates)
    """
    sums, distances = None, np.zeros(len(dates))
    for codes, block in _coded_blocks(cursor, sql, dates):
        if sums is None:
            sums = np.zeros((len(dates), block.shape[1]))
        if _one_date(codes):  # the common batch: no row selection to copy
            sums[codes[0]] += block.sum(axis=0, dtype=np.float64)
            n[codes[0]] += len(codes)
            continue
        for code in np.unique(codes):
            rows = codes == code
            sums[code] += block[rows].sum(axis=0, dtype=np.float64)
            n[code] += int(rows.sum())
    centroids = sums / np.maximum(n, 1)[:, None]
    difference = None
    for codes, block in _coded_blocks(cursor, sql, dates):
        if difference is None or len(difference) < len(block):
            difference = np.empty(block.shape)
        offsets = difference[: len(block)]
        # widened to float64 inside the subtraction: no float64 copy of the block
        centre = centroids[codes[0]] if _one_date(codes) else centroids[codes]
        np.subtract(block, centre, out=offsets, dtype=np.float64)
        lengths = np.sqrt(np.einsum("ij,ij->i", offsets, offsets))
        distances += np.bincount(codes, lengths, len(dates))
    cursor.unregister("pe_dates")
    return n, distances / np.maximum(n, 1)


def _coded_blocks(cursor, sql: str, dates: pa.Array) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The vectors of `sql` a batch at a time, each row's date as its index in `dates`."""
    for keys, (block,) in vector_batches(cursor, sql):
        yield pc.index_in(keys.column("as_of_date"), value_set=dates).to_numpy(), block


def _one_date(codes: np.ndarray) -> bool:
    return bool((codes == codes[0]).all())
