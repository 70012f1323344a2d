"""portfolio-embeddings: the command line around the dbt pipeline.

    portfolio-embeddings backfill --as-of 2025-01-31 --limit 100 [--portfolio-id P ...]
    portfolio-embeddings neighbors --portfolio-id P00001 --as-of 2025-01-31 [--k 10]
    portfolio-embeddings show --as-of 2025-01-31 [--to 2025-03-31] [--portfolio-id P ...]
    portfolio-embeddings map --as-of 2025-01-31 [--highlight P00001] [--out map.png]

`backfill_numeric_portfolio_embeddings` is `portfolio-embeddings backfill`, with the old
script's flags. Every subcommand takes --target (dev, the default, or postgres) and
finds its tables where the dbt project puts them for that target (the profile's DuckDB
file or the databases it attaches; portfolio_embeddings.project asks dbt).
A user mistake is one line on stderr and exit code 2; a failed run exits 1.
"""

from __future__ import annotations

import argparse

from portfolio_embeddings.cli import backfill, neighbors, options, show
from portfolio_embeddings.cli import map as portfolio_map


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portfolio-embeddings", description=__doc__.splitlines()[0]
    )
    subparsers = parser.add_subparsers(required=True, metavar="COMMAND")
    for command in (backfill, neighbors, show, portfolio_map):
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    return options.run(build_parser(), argv)


def backfill_main(argv: list[str] | None = None) -> int:
    """backfill_numeric_portfolio_embeddings: the old script's name and flags."""
    parser = argparse.ArgumentParser(
        prog="backfill_numeric_portfolio_embeddings",
        description="Encode portfolio risk reports of a date into numeric_window_embeddings.",
    )
    backfill.add_arguments(parser)
    return options.run(parser, argv)
