"""What the subcommands share: their common options and checks, and how a mistake is
reported (one line on stderr, exit code 2)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from portfolio_embeddings.project import ProjectError, find_project_dir, project_vars
from portfolio_embeddings.search import SearchError, known_ids
from portfolio_embeddings.vector_cache import CacheConfigError

TARGETS = ("dev", "postgres")


class UsageError(Exception):
    """A mistake in the arguments or data asked for: reported without a traceback."""


# The user's to fix (arguments, data asked for, the project's configuration).
REPORTED = (UsageError, SearchError, ProjectError, CacheConfigError)


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (argparse prints the whole usage first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def command(subparsers, name: str, summary: str, examples: list[str], description: str = ""):
    """A subcommand's parser: its --help gives the summary, the description and examples."""
    return subparsers.add_parser(
        name,
        help=summary,
        description=f"{summary}.\n\n{description}".strip(),
        epilog="examples:\n" + "\n".join(f"  {line}" for line in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


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
    if text not in known_ids():
        known = ", ".join(known_ids())
        raise argparse.ArgumentTypeError(f"unknown model_id {text!r}; known model_ids: {known}")
    return text


def add_as_of(parser, *, required: bool = False, help: str) -> None:
    parser.add_argument("--as-of", required=required, type=iso_date, metavar="YYYY-MM-DD",
                        help=help)  # fmt: skip


def add_date_range(parser, what: str) -> None:
    """--start / --end: a range of dates, inclusive, each end optional."""
    parser.add_argument("--start", type=iso_date, metavar="YYYY-MM-DD",
                        help=f"first date of {what} (inclusive; not with --as-of)")  # fmt: skip
    parser.add_argument("--end", type=iso_date, metavar="YYYY-MM-DD",
                        help=f"last date of {what} (inclusive; not with --as-of)")  # fmt: skip


def check_date_range(args) -> None:
    if args.as_of and (args.start or args.end):
        raise UsageError("give either --as-of or a --start / --end range, not both")
    if args.start and args.end and args.start > args.end:
        raise UsageError(f"--end {args.end} is before --start {args.start}")


def add_model_id(parser, help: str) -> None:
    parser.add_argument("--model-id", type=model_id, metavar="ID",
                        help=f"{help}; one of {', '.join(known_ids())}")  # fmt: skip


def default_var(args, name: str) -> str:
    """A var's default as the project's dbt_project.yml declares it (its one home)."""
    return project_vars(project_dir(args))[name]


def add_portfolio_ids(parser, help: str) -> None:
    """--portfolio-id, repeatable: a list (None when not given)."""
    parser.add_argument("--portfolio-id", action="append", metavar="ID", help=help)


def add_common(parser) -> None:
    """--target and --project-dir, which every subcommand takes."""
    parser.add_argument("--target", choices=TARGETS, default="dev",
                        help="the dbt target whose tables are used (default dev: the local "
                        "DuckDB file; postgres: the databases of docs/postgres.md)")  # fmt: skip
    parser.add_argument("--project-dir", metavar="DIR",
                        help="the portfolio_embeddings dbt project (default: "
                        "$PORTFOLIO_PROJECT_DIR, else the checkout this package is "
                        "installed from)")  # fmt: skip


def project_dir(args) -> Path:
    return find_project_dir(getattr(args, "project_dir", None))


def output_file(path: str, option: str) -> Path:
    """A file to write: its folder must exist (a mistake, not a traceback)."""
    out = Path(path).expanduser()
    if not out.parent.is_dir():
        raise UsageError(f"{option} {path}: no folder {out.parent}")
    if out.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file name")
    return out


def run(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse argv and run the chosen command: exit code 2 for a reported mistake, 0
    when whoever reads the output stops early (`| head`)."""
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return code
    except REPORTED as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader has gone: nothing more to say, and no flush error at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
