"""The stored vectors of a model, for the commands that read them (neighbors, map,
explain): through the vector cache or straight from the database, and what to say when
a state asked for is not there."""

from __future__ import annotations

from portfolio_embeddings.cli import hints
from portfolio_embeddings.cli.database import Tables
from portfolio_embeddings.cli.options import UsageError
from portfolio_embeddings.search import Space, load_vectors, space_of
from portfolio_embeddings.vector_cache import cached_vectors


def load_space(tables: Tables, model_id: str, *, cache: bool):
    """(space, ids, dates, vectors, norms or None); ids and dates are Arrow arrays."""
    space = space_of(model_id)
    con, table = tables.con, tables.name(space.table)

    def load():
        return load_vectors(con, table, model_id, keys_as_numpy=False, space=space)

    if not cache:
        return (space, *load(), None)
    return (space, *cached_vectors(con, table, space, tables.location(space.table), load))


def stored_states_sql(tables: Tables, space: Space) -> str:
    """The space's stored states as a relation (portfolio_id, as_of_date), one
    parameter: the model_id."""
    return (
        f"select {space.portfolio_id_sql} as portfolio_id, as_of_date "
        f"from {tables.name(space.table)} where {space.where_sql} and vector is not null"
    )


def missing_state_error(tables: Tables, space: Space, portfolio_id: str, as_of: str):
    """The UsageError for a state without a vector, with the next step: the dates that
    portfolio has, or the closest ids, or the dates that have vectors."""
    con, source = tables.con, stored_states_sql(tables, space)
    what = f"no {space.model_id} vector for portfolio {portfolio_id!r} on {as_of}"
    own = hints.nearest_dates(
        con, f"{source} and {space.portfolio_id_sql} = ?", [space.model_id, portfolio_id], [as_of]
    )
    if own:
        return UsageError(f"{what}; its nearest dates with one: {hints.listing(own)}")
    on_date = con.execute(
        f"select count(*) from ({source}) where as_of_date = cast(? as date)",
        [space.model_id, as_of],
    ).fetchone()[0]
    close = hints.close_ids(con, source, [space.model_id], portfolio_id)
    if on_date:
        return UsageError(f"{what}: no such portfolio under {space.model_id}; "
                          f"close ids: {hints.listing(close)}")  # fmt: skip
    dates = hints.nearest_dates(con, source, [space.model_id], [as_of])
    return UsageError(f"{what}: no {space.model_id} vectors on {as_of} at all; nearest dates "
                      f"with vectors: {hints.listing(dates)}")  # fmt: skip


def missing_date_error(tables: Tables, space: Space, dates: list[str], what: str):
    """The UsageError for dates without vectors, with the nearest dates that have some."""
    source = stored_states_sql(tables, space)
    near = hints.nearest_dates(tables.con, source, [space.model_id], dates)
    return UsageError(f"{what}; nearest dates with {space.model_id} vectors: "
                      f"{hints.listing(near)}")  # fmt: skip
