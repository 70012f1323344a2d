"""portfolio-embeddings: the command line around the dbt pipeline.

    portfolio-embeddings backfill --as-of 2025-01-31 [--limit 100] [--portfolio-id P ...]
    portfolio-embeddings neighbors --portfolio-id P00001 --as-of 2025-01-31 [--top-k 10]
    portfolio-embeddings explain --portfolio-id P00001 --as-of 2025-01-31 --other P00002
    portfolio-embeddings show --as-of 2025-01-31 [--portfolio-id P ...] [--limit N]
    portfolio-embeddings map --as-of 2025-01-31 [--highlight P00001] [--out map.png]
    portfolio-embeddings distances --as-of 2024-10-31 [--reference LABEL] [--k 10]

`backfill_numeric_portfolio_embeddings` is `portfolio-embeddings backfill`, with the old
script's flags. Every subcommand works from any folder: it finds the dbt project
(--project-dir, else the checkout this package is installed from), takes --target
(dev, the default, or postgres) and finds its tables where the dbt project puts them
for that target (portfolio_embeddings.project asks dbt). docs/cli.md has the depth.
A user mistake is one line on stderr and exit code 2; a failed run exits 1.
"""

from __future__ import annotations

import argparse

from portfolio_embeddings.cli import (
    backfill,
    distances,
    explain,
    fit_scales,
    neighbors,
    options,
    show,
)
from portfolio_embeddings.cli import map as portfolio_map

# The subcommands, in --help order: each module has add_parser(subparsers).
COMMANDS = [backfill, neighbors, explain, show, portfolio_map, distances, fit_scales]


def build_parser() -> options.Parser:
    parser = options.Parser(
        prog="portfolio-embeddings",
        description=__doc__.split("\n\n")[0] + " Each command has --help with examples.",
    )
    subparsers = parser.add_subparsers(required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    return options.run(build_parser(), argv)


def backfill_main(argv: list[str] | None = None) -> int:
    """backfill_numeric_portfolio_embeddings: the old script's name and flags."""
    parser = options.Parser(
        prog="backfill_numeric_portfolio_embeddings",
        description="Encode the portfolio risk reports of a date into "
        "numeric_window_embeddings (and joint_embeddings). " + backfill.DESCRIPTION,
        epilog="examples:\n" + "\n".join(f"  {line}" for line in backfill.EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backfill.add_arguments(parser)
    return options.run(parser, argv)
