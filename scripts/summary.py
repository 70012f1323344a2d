"""Print what the last `dbt run` left in a DuckDB file: portfolios, dates, features,
rejects, and the states closest to each reference. Used by `make run`; safe on a file
that another process does not hold."""

from __future__ import annotations

import argparse
import os

import duckdb

from portfolio_embeddings.project import project_vars

QUERIES = {
    "portfolio vectors": """
        select count(*) from main.numeric_window_embeddings where entity_type = 'PORTFOLIO'
    """,
    "portfolios": """
        select count(distinct entity_id) from main.numeric_window_embeddings
        where entity_type = 'PORTFOLIO'
    """,
    "dates": """
        select count(distinct as_of_date) from main.numeric_window_embeddings
        where entity_type = 'PORTFOLIO'
    """,
    "model_ids": """
        select string_agg(distinct model_id, ', ') from main.numeric_window_embeddings
        where entity_type = 'PORTFOLIO'
    """,
    "features encoded (last run)": "select count(*) from main.int_portfolio_features",
    "distinct feature names (last run)": """
        select count(distinct feature_name) from main.int_portfolio_features
    """,
    "rejects (current record)": "select count(*) from main.portfolio_feature_rejects",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="the DuckDB file dbt wrote to")
    args = parser.parse_args()
    with duckdb.connect(args.db, read_only=True) as con:
        print(f"Summary of {os.path.abspath(args.db)} (the file dbt read and wrote):")
        for label, sql in QUERIES.items():
            print(f"  {label:<36} {con.sql(sql).fetchone()[0]}")
        reasons = con.sql(
            "select reason, count(*) from main.portfolio_feature_rejects group by 1 order by 2 desc"
        ).fetchall()
        for reason, count in reasons:
            print(f"    reject reason {reason:<22} {count}")
        print_closest_states(con)


# Per reference that lists states: its last listed date, and on that date the closest
# states, the listed ones marked with "*" (a state close to a reference it is not in is
# what the reference is for).
CLOSEST = """
with listed as (
    select reference_label, portfolio_id, as_of_date from main.reference_states
    where as_of_date is not null
)
select
    distances.reference_label, distances.as_of_date, distances.distance_rank,
    distances.portfolio_id, distances.euclidean_distance,
    (distances.reference_label, distances.portfolio_id, distances.as_of_date)
        in (select (reference_label, portfolio_id, as_of_date) from listed) as is_listed
from main.portfolio_reference_distances as distances
inner join (
    select reference_label, max(as_of_date) as as_of_date from listed group by 1
) as last_listed using (reference_label, as_of_date)
where distances.model_id = ? and distances.distance_rank <= ?
order by distances.reference_label, distances.distance_rank
"""


def print_closest_states(con, k: int = 10) -> None:
    tables = {name for (name,) in con.sql("select table_name from duckdb_tables()").fetchall()}
    if not {"reference_states", "portfolio_reference_distances"} <= tables:
        print("  (no reference states: `dbt seed`, then `dbt run`)")
        return
    rows = con.execute(CLOSEST, [project_vars()["model_id"], k]).fetchall()
    for label in dict.fromkeys(row[0] for row in rows):
        picked = [row for row in rows if row[0] == label]
        print(f"  closest to reference {label} on {picked[0][1]} (* = listed in it):")
        for _, _, rank, pid, distance, listed in picked:
            print(f"    {rank:>3}. {pid}{'*' if listed else ' '} distance {distance:.3f}")


if __name__ == "__main__":
    main()
