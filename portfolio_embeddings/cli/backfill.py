"""`backfill` (and backfill_numeric_portfolio_embeddings): the old script's flags and
defaults, run as one `dbt run` of the pipeline, then a summary of what that run did."""

from __future__ import annotations

import argparse
import json
import sys
import time

from portfolio_embeddings.cli import dbt_process, options, run_report
from portfolio_embeddings.cli.database import Tables
from portfolio_embeddings.project import profiles_dir
from python_encoders import JOINT_CARDS, MODEL_CARDS

DEFAULT_LIMIT = 100  # the old script's
EXAMPLES = [
    "backfill_numeric_portfolio_embeddings --as-of 2025-01-31",
    "backfill_numeric_portfolio_embeddings --as-of 2025-01-31 --limit 500 "
    "--portfolio-id P00001 --portfolio-id P00002",
    "portfolio-embeddings backfill --start 2024-10-31 --end 2025-01-31 --no-limit --rebuild",
    "portfolio-embeddings backfill --as-of 2025-01-31 --target postgres",
]
DESCRIPTION = (
    "Runs `dbt run --select portfolio_embeddings` with these flags as its vars, from any "
    "folder (the project is found as --project-dir says), then prints what the run did: "
    "states selected, re-encoded, left unchanged, encoded, without usable features, rows "
    "deleted, rejects by reason. Exit code 0 when done (also when there was nothing to "
    "do), 2 for a mistake in the flags or data asked for, 1 when the pipeline failed."
)


def add_parser(subparsers) -> None:
    add_arguments(options.command(
        subparsers, "backfill", "encode the reports of a date (or a range) into "
        "numeric_window_embeddings and joint_embeddings", EXAMPLES, DESCRIPTION))  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The old script's flags (also those of backfill_numeric_portfolio_embeddings)."""
    options.add_as_of(parser, help="the date of the reports to encode (required, unless "
                      "--start / --end give a range)")  # fmt: skip
    parser.add_argument("--start", "--start-date", dest="start", type=options.iso_date,
                        metavar="YYYY-MM-DD", help="first date of a range to encode "
                        "(inclusive; not with --as-of)")  # fmt: skip
    parser.add_argument("--end", "--end-date", dest="end", type=options.iso_date,
                        metavar="YYYY-MM-DD", help="last date of a range to encode "
                        "(inclusive; not with --as-of)")  # fmt: skip
    limits = parser.add_mutually_exclusive_group()
    limits.add_argument("--limit", type=options.positive_int, default=DEFAULT_LIMIT,
                        metavar="N", help="encode the first N portfolio_ids (ascending) that "
                        f"have a report on the dates (default {DEFAULT_LIMIT}, as the old "
                        "script)")  # fmt: skip
    limits.add_argument("--no-limit", action="store_true",
                        help="encode every portfolio with a report on the dates")  # fmt: skip
    options.add_portfolio_ids(parser, "only this portfolio (repeat for more)")
    parser.add_argument("--model-id", type=_numeric_model_id, metavar="ID",
                        help="the numeric encoder (default model_id of dbt_project.yml); one "
                        f"of {', '.join(sorted(MODEL_CARDS))}")  # fmt: skip
    parser.add_argument(
        "--joint-model-id",
        type=_joint_model_id,
        metavar="ID",
        help="the joint card joint_embeddings writes (default joint_model_id "
        f"of dbt_project.yml); one of {', '.join(sorted(JOINT_CARDS))}",
    )
    parser.add_argument("--rebuild", action="store_true",
                        help="re-encode every selected state, changed or not (default: "
                        "only the states whose stored rows are not from their current "
                        "report)")  # fmt: skip
    options.add_common(parser)
    parser.set_defaults(func=run)


def _numeric_model_id(text: str) -> str:
    if text not in MODEL_CARDS:
        raise argparse.ArgumentTypeError(f"unknown model_id {text!r}; known model_ids: "
                                         f"{', '.join(sorted(MODEL_CARDS))}")  # fmt: skip
    return text


def _joint_model_id(text: str) -> str:
    if text not in JOINT_CARDS:
        raise argparse.ArgumentTypeError(
            f"unknown joint model_id {text!r}; known joint "
            f"model_ids: {', '.join(sorted(JOINT_CARDS))}"
        )
    return text


def run(args) -> int:
    if not (args.as_of or args.start or args.end):
        raise options.UsageError("give the date of the reports: --as-of YYYY-MM-DD "
                                 "(or a range: --start / --end)")  # fmt: skip
    options.check_date_range(args)
    project_dir = options.project_dir(args)
    selection = run_report.Selection(
        as_of=args.as_of, start=args.start, end=args.end,
        portfolio_ids=tuple(args.portfolio_id) if args.portfolio_id else None,
        limit=None if args.no_limit else args.limit,
        model_id=args.model_id or options.default_var(args, "model_id"),
        joint_model_id=args.joint_model_id or options.default_var(args, "joint_model_id"),
        rebuild=args.rebuild,
    )  # fmt: skip
    started = time.perf_counter()
    tables = Tables(args.target, project_dir)
    try:
        if run_report.matching_reports(tables, selection) == 0:
            print(run_report.nothing_to_do(tables, selection))
            return 0
        before = run_report.stored_keys(tables, selection)
    finally:
        tables.close()  # dbt opens the files for writing
    print(f"backfill: reports of {selection.dates_text()}, "
          f"limit {selection.limit or 'none'}, model {selection.model_id}, "
          f"target {args.target}, project {project_dir}", flush=True)  # fmt: skip
    outcome = dbt_process.invoke(
        ["run", "--select", "portfolio_embeddings", "--vars", json.dumps(selection.dbt_vars()),
         "--project-dir", str(project_dir), "--profiles-dir", str(profiles_dir(project_dir)),
         "--target", args.target],
        project_dir,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if not outcome.success:
        print(f"backfill failed after {seconds:.1f}s: {outcome.error or 'see the dbt output'}",
              file=sys.stderr)  # fmt: skip
        return 1
    tables = Tables(args.target, project_dir)
    try:
        summary = run_report.summarize(tables, selection, before)
        if summary.selected == 0:
            print(run_report.nothing_to_do(tables, selection))
            return 0
    finally:
        tables.close()
    nodes = ", ".join(f"{n} {status}" for status, n in sorted(outcome.statuses.items()))
    print(f"backfill done in {seconds:.1f}s (dbt: {nodes}):")
    print("\n".join(run_report.report_lines(summary, selection)))
    return 0
