"""Print what the last `dbt run` left in a DuckDB file: portfolios, dates, features,
rejects. Used by `make run`; safe on a file that another process does not hold."""

from __future__ import annotations

import argparse
import os

import duckdb

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


if __name__ == "__main__":
    main()
