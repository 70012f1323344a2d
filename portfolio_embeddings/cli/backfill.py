"""`backfill`: run the dbt pipeline for a date, then count what it wrote."""

from __future__ import annotations

import argparse
import json
import sys
import time

from portfolio_embeddings.cli import options
from portfolio_embeddings.project import PROJECT_DIR, profiles_dir

SUMMARY_SQL = """
select
    (select count(*) from {{ ref('numeric_window_embeddings') }}
     where entity_type = 'PORTFOLIO' and model_id = '{{ var("model_id") }}'
       and as_of_date = cast('{{ var("as_of") }}' as date)) as encoded,
    (select count(*) from {{ ref('portfolio_feature_rejects') }}) as rejects
"""


def add_parser(subparsers) -> None:
    add_arguments(subparsers.add_parser("backfill", help="run the dbt pipeline for a date"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The old script's flags (also those of backfill_numeric_portfolio_embeddings)."""
    options.add_as_of(parser, help="YYYY-MM-DD")
    options.add_model_id(parser)
    parser.add_argument(
        "--limit", type=options.positive_int, help="first N portfolio_ids (ascending)"
    )
    options.add_portfolio_ids(parser, help="repeatable")
    options.add_target(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from dbt.cli.main import dbtRunner

    dbt_vars = {"as_of": args.as_of, "model_id": args.model_id}
    if args.limit is not None:
        dbt_vars["limit"] = args.limit
    if args.portfolio_id:
        dbt_vars["portfolio_ids"] = args.portfolio_id
    selection = ["--vars", json.dumps(dbt_vars), "--project-dir", str(PROJECT_DIR),
                 "--target", args.target, "--profiles-dir", str(profiles_dir())]  # fmt: skip
    print(
        f"backfill: model {args.model_id}, as_of {args.as_of}, "
        f"limit {args.limit or 'none'}, target {args.target}",
        flush=True,
    )
    started = time.perf_counter()
    runner = dbtRunner()
    result = runner.invoke(["run", "--select", "portfolio_embeddings", *selection])
    seconds = time.perf_counter() - started
    if not result.success:
        print(f"backfill failed after {seconds:.1f}s (see the dbt output above)", file=sys.stderr)
        return 1
    # Counted through dbt itself: dbt-duckdb keeps the DuckDB file open in this process.
    counts = (
        runner.invoke(["show", "--inline", SUMMARY_SQL, "--quiet", *selection])
        .result.results[0]
        .agate_table.rows[0]
    )
    print(
        f"backfill done in {seconds:.1f}s: {counts[0]} portfolios encoded on {args.as_of} "
        f"under {args.model_id}, {counts[1]} rejects (see portfolio_feature_rejects)"
    )
    return 0
