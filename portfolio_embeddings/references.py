"""Reference states ("known bad states"): the references of the seed reference_states
resolved to their member states, each reference's prototype (the mean of its members'
vectors, per model_id), and every stored state's distance to each prototype.

A seed row is one state (portfolio_id and as_of_date) or a date window (window_start
and window_end, inclusive; with a portfolio_id, that portfolio's states only). A listed
state without a vector, or a reference that resolves to no state, fails the run with a
message that names it (docs/analytics.md).
"""

from __future__ import annotations

import datetime as dt
import sys

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_embeddings.search import _binary_chunk_as_matrix
from portfolio_embeddings.sql import sql_literal
from portfolio_embeddings.vector_reads import (
    TIMESTAMP,
    date_range,
    portfolio_vector_keys,
    portfolio_vectors,
    run_timestamp,
    vector_batches,
)

PROTOTYPE_SCHEMA = pa.schema(
    [
        ("reference_label", pa.string()),
        ("model_id", pa.string()),
        ("n_states", pa.int32()),
        ("vector", pa.binary()),
        ("members_fingerprint", pa.string()),
        ("computed_at", TIMESTAMP),
    ]
)
MAX_NAMED = 5  # states named in one error message


class ReferenceError(ValueError):
    """A reference of the seed that cannot be resolved: its message names it."""


def prototype_rows(
    session: duckdb.DuckDBPyConnection,
    seed_sql: str | None,
    numeric_sql: str,
    stored_sql: str,
    model_id: str,
    rebuild: bool,
) -> pa.Table:
    """The prototypes to write: one row per reference whose members (keys, reports and
    card) differ from the stored prototype's, or all with `rebuild`, and a tombstone
    (null computed_at) per stored reference no longer in the seed. Nothing when the seed
    is not loaded (seed_sql None): the stored prototypes stay."""
    if seed_sql is None:
        return PROTOTYPE_SCHEMA.empty_table()
    cursor = session.cursor()
    now = run_timestamp(cursor)
    resolve_members(cursor, seed_sql, numeric_sql, model_id)
    # a label held twice (a torn commit) has no single fingerprint: rewritten once
    stored = dict(
        cursor.sql(
            "select reference_label, case when count(*) = 1 then min(members_fingerprint) end "
            f"from ({stored_sql}) as stored where model_id = {sql_literal(model_id)} "
            "group by reference_label"
        ).fetchall()
    )
    current = cursor.sql(
        """
        select
            reference_label,
            count(*) as n_states,
            md5(string_agg(
                concat_ws(chr(31), portfolio_id, as_of_date, source_fingerprint, encoder_spec_hash),
                chr(30) order by portfolio_id, as_of_date
            )) as members_fingerprint
        from pe_members
        group by reference_label
        order by reference_label
        """
    ).fetchall()
    changed = [row for row in current if rebuild or stored.get(row[0]) != row[2]]
    removed = sorted(set(stored) - {row[0] for row in current})
    vectors = prototype_vectors(cursor, numeric_sql, model_id, [row[0] for row in changed])
    rows = {
        "reference_label": [row[0] for row in changed] + removed,
        "model_id": [model_id] * (len(changed) + len(removed)),
        "n_states": [row[1] for row in changed] + [None] * len(removed),
        "vector": [vector.astype("<f4").tobytes() for vector in vectors] + [None] * len(removed),
        "members_fingerprint": [row[2] for row in changed] + [None] * len(removed),
        "computed_at": [now] * len(changed) + [None] * len(removed),
    }
    return pa.table(rows, schema=PROTOTYPE_SCHEMA)


def resolve_members(cursor, seed_sql: str, numeric_sql: str, model_id: str) -> None:
    """Create the temporary table pe_members (reference_label, portfolio_id, as_of_date,
    source_fingerprint, encoder_spec_hash): the distinct states of each reference that
    have a vector of `model_id`. Raises ReferenceError on a malformed seed row, a listed
    state without a vector, or a reference without any state."""
    cursor.execute(
        f"""
        create or replace temp table pe_seed as
        select
            row_number() over () as seed_row,
            nullif(trim(cast(reference_label as varchar)), '') as reference_label,
            nullif(trim(cast(portfolio_id as varchar)), '') as portfolio_id,
            cast(as_of_date as date) as as_of_date,
            cast(window_start as date) as window_start,
            cast(window_end as date) as window_end
        from ({seed_sql}) as seed
        """
    )
    malformed = cursor.sql(
        """
        select seed_row, reference_label, portfolio_id, as_of_date, window_start, window_end
        from pe_seed
        where
            reference_label is null
            or (as_of_date is not null) = (window_start is not null or window_end is not null)
            or (as_of_date is not null and portfolio_id is null)
            or (window_start is null) <> (window_end is null)
            or window_start > window_end
        order by seed_row
        limit 1
        """
    ).fetchall()
    if malformed:
        row, label, pid, day, start, end = malformed[0]
        raise ReferenceError(
            f"reference_states row {row} (reference_label {label!r}): give portfolio_id and "
            "as_of_date (one state), or window_start <= window_end (a date window, with or "
            f"without portfolio_id); got portfolio_id {pid!r}, as_of_date {_day(day)}, "
            f"window_start {_day(start)}, window_end {_day(end)}"
        )
    (first, last) = cursor.sql(
        "select least(min(as_of_date), min(window_start)), "
        "greatest(max(as_of_date), max(window_end)) from pe_seed"
    ).fetchone()
    dates = pa.array([day for day in (first, last) if day is not None], pa.date32())
    cursor.execute(
        f"""
        create or replace temp table pe_keys as
        select
            portfolio_id,
            as_of_date,
            window_spec ->> 'source_fingerprint' as source_fingerprint,
            window_spec ->> 'encoder_spec_hash' as encoder_spec_hash
        from ({portfolio_vector_keys(numeric_sql, model_id)}) as stored
        where as_of_date {date_range(dates)}
        """
    )
    skip_references_outside_history(cursor, model_id)
    missing = cursor.sql(
        f"""
        select reference_label, portfolio_id, as_of_date
        from pe_seed
        where
            as_of_date is not null
            and not exists (
                select 1 from pe_keys
                where
                    pe_keys.portfolio_id = pe_seed.portfolio_id
                    and pe_keys.as_of_date = pe_seed.as_of_date
            )
        order by seed_row
        limit {MAX_NAMED}
        """
    ).fetchall()
    if missing:
        states = "; ".join(
            f"{pid} on {_day(day)} (reference {label!r})" for label, pid, day in missing
        )
        raise ReferenceError(
            f"reference_states lists states without a {model_id} vector: {states}. "
            "Such a state has no report, or its report has no usable feature "
            "(portfolio_feature_rejects says why); fix seeds/reference_states.csv or encode it"
        )
    cursor.execute(
        """
        create or replace temp table pe_members as
        select distinct reference_label, portfolio_id, as_of_date, source_fingerprint,
            encoder_spec_hash
        from (
            select pe_seed.reference_label, pe_keys.*
            from pe_seed
            inner join pe_keys
                on
                    pe_seed.portfolio_id = pe_keys.portfolio_id
                    and pe_seed.as_of_date = pe_keys.as_of_date
            union all
            select pe_seed.reference_label, pe_keys.*
            from pe_seed
            inner join pe_keys
                on pe_keys.as_of_date between pe_seed.window_start and pe_seed.window_end
            where pe_seed.portfolio_id is null or pe_seed.portfolio_id = pe_keys.portfolio_id
        ) as resolved
        """
    )
    empty = cursor.sql(
        f"""
        select reference_label, min(window_start), max(window_end)
        from pe_seed
        where reference_label not in (select reference_label from pe_members)
        group by reference_label
        order by reference_label
        limit {MAX_NAMED}
        """
    ).fetchall()
    if empty:
        names = "; ".join(f"{label!r} ({_day(a)}..{_day(b)})" for label, a, b in empty)
        raise ReferenceError(
            f"references without any state that has a {model_id} vector: {names}; "
            "fix seeds/reference_states.csv or encode those dates"
        )


def skip_references_outside_history(cursor, model_id: str) -> None:
    """Drop from pe_seed every reference none of whose dates has any stored vector (the
    shipped demo references on a team's own history, or a reference of dates not encoded
    yet), with a warning: it has no prototype, and it does not stop the run. A reference
    with a date in the history must resolve in full."""
    outside = [
        label
        for (label,) in cursor.sql(
            """
            select distinct reference_label
            from pe_seed
            where reference_label not in (
                select pe_seed.reference_label
                from pe_seed
                inner join (select distinct as_of_date from pe_keys) as stored
                    on
                        stored.as_of_date = pe_seed.as_of_date
                        or stored.as_of_date between pe_seed.window_start and pe_seed.window_end
            )
            order by reference_label
            """
        ).fetchall()
    ]
    if outside:
        print(
            f"Warning: reference_states: no {model_id} vector on any date of "
            f"{', '.join(map(repr, outside))}: no prototype (these references are outside "
            "the stored history)",
            file=sys.stderr,
            flush=True,
        )
        cursor.execute(
            "delete from pe_seed where reference_label in ("
            + ", ".join(sql_literal(label) for label in outside)
            + ")"
        )


def prototype_vectors(cursor, numeric_sql: str, model_id: str, labels: list[str]) -> list:
    """The mean vector (float64) of the members of each label, in the labels' order;
    read a batch of member vectors at a time."""
    if not labels:
        return []
    wanted = pa.array(labels, pa.string())
    cursor.register("pe_wanted", pa.table({"reference_label": wanted}))
    dates = pa.array(
        [day for row in cursor.sql(
            "select min(as_of_date), max(as_of_date) from pe_members "
            "where reference_label in (select reference_label from pe_wanted)"
        ).fetchall() for day in row],
        pa.date32(),
    )  # fmt: skip
    sql = f"""
        select pe_members.reference_label, stored.vector
        from pe_members
        inner join ({portfolio_vectors(numeric_sql, model_id)}) as stored
            on
                pe_members.portfolio_id = stored.portfolio_id
                and pe_members.as_of_date = stored.as_of_date
        where
            pe_members.reference_label in (select reference_label from pe_wanted)
            and stored.as_of_date {date_range(dates)}
    """
    sums, counts = None, np.zeros(len(labels), np.int64)
    for keys, (block,) in vector_batches(cursor, sql):
        codes = pc.index_in(keys.column("reference_label"), value_set=wanted).to_numpy()
        if sums is None:
            sums = np.zeros((len(labels), block.shape[1]), np.float64)
        for code in np.unique(codes):
            rows = codes == code
            sums[code] += block[rows].sum(axis=0, dtype=np.float64)
            counts[code] += int(rows.sum())
    cursor.unregister("pe_wanted")
    return list(sums / counts[:, None])


DISTANCE_SCHEMA = pa.schema(
    [
        ("reference_label", pa.string()),
        ("model_id", pa.string()),
        ("as_of_date", pa.date32()),
        ("portfolio_id", pa.string()),
        ("cosine_similarity", pa.float64()),
        ("euclidean_distance", pa.float64()),
        ("distance_rank", pa.int32()),
        ("computed_at", TIMESTAMP),
    ]
)


def distance_rows(
    session: duckdb.DuckDBPyConnection,
    prototypes_sql: str,
    numeric_sql: str,
    stored_sql: str,
    model_id: str,
    rebuild: bool,
) -> pa.Table:
    """The distance rows to write, a group per (reference, date): every group that is
    not current is recomputed whole (ranks within a date depend on all its states); a
    tombstone (null computed_at) empties each stored group that has no prototype or no
    vector any more.

    A group is current when it has a row per vector of its date and was computed after
    the newest of them and after its prototype (created_at and computed_at come from the
    engine's clock)."""
    cursor = session.cursor()
    now = run_timestamp(cursor)
    prototypes = cursor.sql(
        f"select reference_label, vector, computed_at from ({prototypes_sql}) as prototypes "
        f"where model_id = {sql_literal(model_id)} and vector is not null "
        "order by reference_label"
    ).to_arrow_table()
    labels = prototypes.column("reference_label").combine_chunks()
    cursor.register(
        "pe_prototypes",
        pa.table({"ref_idx": pa.array(np.arange(len(labels), dtype=np.int32)),
                  "reference_label": labels,
                  "computed_at": prototypes.column("computed_at")}),
    )  # fmt: skip
    vectors_sql = portfolio_vectors(numeric_sql, model_id)
    cursor.execute(
        f"""
        create or replace temp table pe_groups as
        with dates as (
            select as_of_date, count(*) as n_states, max(created_at) as newest
            from ({portfolio_vector_keys(numeric_sql, model_id)}) as stored
            group by as_of_date
        ),
        stored_groups as (
            select reference_label, as_of_date, count(*) as n_states, min(computed_at) as oldest
            from ({stored_sql}) as stored
            where model_id = {sql_literal(model_id)}
            group by reference_label, as_of_date
        ),
        wanted as (
            select pe_prototypes.reference_label, pe_prototypes.computed_at, dates.*
            from pe_prototypes cross join dates
        )
        select
            coalesce(wanted.reference_label, stored_groups.reference_label) as reference_label,
            coalesce(wanted.as_of_date, stored_groups.as_of_date) as as_of_date,
            wanted.reference_label is null as is_tombstone
        from wanted
        full outer join stored_groups
            on
                wanted.reference_label = stored_groups.reference_label
                and wanted.as_of_date = stored_groups.as_of_date
        where
            wanted.reference_label is null
            or {bool(rebuild)}
            or stored_groups.n_states is null
            or stored_groups.n_states <> wanted.n_states
            or wanted.newest > stored_groups.oldest
            or wanted.computed_at > stored_groups.oldest
        """
    )
    dates = pc.unique(
        cursor.sql("select as_of_date from pe_groups where not is_tombstone").to_arrow_table()
        .column(0).combine_chunks()
    )  # fmt: skip
    matrix = (
        _binary_chunk_as_matrix(prototypes.column("vector").combine_chunks()).astype(np.float64)
        if len(labels)
        else np.empty((0, 0))
    )
    pieces = list(_distance_batches(cursor, vectors_sql, dates, matrix))
    cursor.register("pe_distances", pa.Table.from_batches(pieces, schema=_LONG_SCHEMA))
    result = cursor.sql(
        f"""
        select
            pe_prototypes.reference_label,
            {sql_literal(model_id)} as model_id,
            pe_distances.as_of_date,
            pe_distances.portfolio_id,
            pe_distances.cosine_similarity,
            pe_distances.euclidean_distance,
            cast(row_number() over (
                partition by pe_distances.ref_idx, pe_distances.as_of_date
                order by pe_distances.euclidean_distance, pe_distances.portfolio_id
            ) as integer) as distance_rank,
            cast($now as timestamptz) as computed_at
        from pe_distances
        inner join pe_prototypes on pe_distances.ref_idx = pe_prototypes.ref_idx
        semi join pe_groups
            on
                pe_groups.reference_label = pe_prototypes.reference_label
                and pe_groups.as_of_date = pe_distances.as_of_date
                and not pe_groups.is_tombstone
        union all
        select reference_label, {sql_literal(model_id)}, as_of_date, null, null, null, null, null
        from pe_groups
        where is_tombstone
        """,
        params={"now": now},
    ).to_arrow_table()
    return result.cast(DISTANCE_SCHEMA)


_LONG_SCHEMA = pa.schema(
    [
        ("portfolio_id", pa.string()),
        ("as_of_date", pa.date32()),
        ("ref_idx", pa.int32()),
        ("cosine_similarity", pa.float64()),
        ("euclidean_distance", pa.float64()),
    ]
)


def _distance_batches(cursor, vectors_sql: str, dates: pa.Array, prototypes: np.ndarray):
    """Per batch of the dates' vectors and per prototype: cosine and Euclidean distance
    (float64), one Arrow batch of (portfolio_id, as_of_date, ref_idx, cosine, distance)."""
    if len(dates) == 0 or len(prototypes) == 0:
        return
    cursor.register("pe_dates", pa.table({"as_of_date": dates}))
    sql = f"""
        select portfolio_id, as_of_date, vector
        from ({vectors_sql}) as stored
        where as_of_date {date_range(dates)} and as_of_date in (select as_of_date from pe_dates)
    """
    prototype_norms = np.linalg.norm(prototypes, axis=1)
    for keys, (block,) in vector_batches(cursor, sql):
        wide = block.astype(np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", wide, wide))
        for ref_idx, prototype in enumerate(prototypes):
            difference = wide - prototype
            distance = np.sqrt(np.einsum("ij,ij->i", difference, difference))
            cosine = (wide @ prototype) / np.maximum(norms * prototype_norms[ref_idx], 1e-300)
            yield pa.record_batch(
                [keys.column("portfolio_id"), keys.column("as_of_date"),
                 pa.array(np.full(keys.num_rows, ref_idx, np.int32)),
                 pa.array(cosine), pa.array(distance)],
                schema=_LONG_SCHEMA,
            )  # fmt: skip
    cursor.unregister("pe_dates")


def _day(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else "none"
