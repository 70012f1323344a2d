"""What the subcommands share: their common options and checks, and how a mistake is
reported (one line on stderr, exit code 2)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from portfolio_embeddings.project import ProjectError, project_vars
from portfolio_embeddings.search import SearchError
from python_encoders import known_model_ids

TARGETS = ("dev", "postgres")


class UsageError(Exception):
    """A mistake in the arguments or data asked for: reported without a traceback."""


# The user's to fix (arguments, data asked for, the project's configuration).
REPORTED = (UsageError, SearchError, ProjectError)


def iso_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def model_id(text: str) -> str:
    if text not in known_model_ids():
        known = ", ".join(known_model_ids())
        raise argparse.ArgumentTypeError(f"unknown model_id {text!r}; known model_ids: {known}")
    return text


def add_as_of(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    parser.add_argument("--as-of", required=True, type=iso_date, help=help)


def add_model_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-id", default=project_vars()["model_id"], type=model_id)


def add_portfolio_ids(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """--portfolio-id, repeatable: a list (None when not given)."""
    parser.add_argument("--portfolio-id", action="append", help=help)


def add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", choices=TARGETS, default="dev")


def run(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse argv and run the chosen command; exit code 2 for a reported mistake."""
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except REPORTED as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
