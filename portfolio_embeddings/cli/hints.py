"""The next step for a mistake: the dates that have data nearest to the one asked for,
and the stored portfolio_ids closest to an unknown one (computed in DuckDB, not per
row in Python)."""

from __future__ import annotations

HOW_MANY = 5


def nearest_dates(con, source_sql: str, params: list, dates: list[str]) -> list[str]:
    """The distinct as_of_date of `source_sql` (a relation with as_of_date) nearest to
    any of `dates`, closest first."""
    day = "cast(? as date)"
    distance = "least(" + ", ".join(f"abs(date_diff('day', as_of_date, {day}))" for _ in dates)
    rows = con.execute(
        f"select cast(as_of_date as varchar) from (select distinct as_of_date from "
        f"({source_sql})) order by {distance + ')'}, as_of_date limit {HOW_MANY}",
        [*params, *dates],
    ).fetchall()
    return [day for (day,) in rows]


def close_ids(con, source_sql: str, params: list, wanted: str) -> list[str]:
    """The distinct portfolio_id of `source_sql` closest to `wanted` (edit distance)."""
    rows = con.execute(
        f"select portfolio_id from (select distinct portfolio_id from ({source_sql})) "
        f"order by levenshtein(portfolio_id, ?), portfolio_id limit {HOW_MANY}",
        [*params, wanted],
    ).fetchall()
    return [pid for (pid,) in rows]


def listing(values: list[str], none: str = "none") -> str:
    return ", ".join(values) if values else none
