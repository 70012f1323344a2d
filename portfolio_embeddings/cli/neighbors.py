"""`neighbors`: the portfolio states most similar to one (CSV), as the old
find_similar_portfolios answered: the same date by default, the query itself left out,
the joint space by default."""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from portfolio_embeddings.cli import options
from portfolio_embeddings.cli.database import Tables
from portfolio_embeddings.cli.vectors import load_space, missing_state_error
from portfolio_embeddings.search import nearest

HEADER = "cosine,euclidean,portfolio_id,as_of_date"


def add_parser(subparsers) -> None:
    parser = options.command(
        subparsers,
        "neighbors",
        "the portfolio states most similar to one, as CSV " + HEADER,
        [
            "portfolio-embeddings neighbors --portfolio-id P00001 --as-of 2025-01-31",
            "portfolio-embeddings neighbors --portfolio-id P00001 --as-of 2025-01-31 "
            "--top-k 20 --model-id num-portfolio-core-v1",
            "portfolio-embeddings neighbors --portfolio-id P00001 --as-of 2025-01-31 --all-dates",
        ],
        "Cosine similarity over the stored vectors; the query state is never listed. "
        "Equal cosines are ordered by portfolio_id, then as_of_date.",
    )
    parser.add_argument("--portfolio-id", required=True, metavar="ID",
                        help="the portfolio whose state is the query")  # fmt: skip
    options.add_as_of(parser, required=True, help="the date of the query state; the search "
                      "covers that date only unless --all-dates or --start / --end")  # fmt: skip
    parser.add_argument("--all-dates", action="store_true",
                        help="search the states of every date")  # fmt: skip
    options.add_date_range(parser, "the dates searched")
    parser.add_argument("--top-k", "--k", dest="k", type=options.positive_int, default=10,
                        metavar="N", help="how many states to list (default 10)")  # fmt: skip
    options.add_model_id(parser, "the vectors searched (default the joint model "
                         "joint_model_id of dbt_project.yml, as the old tool)")  # fmt: skip
    parser.add_argument("--no-cache", action="store_true",
                        help="read the vectors from the database, not the memory-mapped "
                        "cache (docs/cli.md: the cache)")  # fmt: skip
    options.add_common(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.all_dates and (args.start or args.end):
        raise options.UsageError("give either --all-dates or a --start / --end range, not both")
    if args.start and args.end and args.start > args.end:
        raise options.UsageError(f"--end {args.end} is before --start {args.start}")
    model_id = args.model_id or options.default_var(args, "joint_model_id")
    tables = Tables(args.target, options.project_dir(args))
    space, ids, dates, vectors, norms = load_space(tables, model_id, cache=not args.no_cache)
    # Arrow compute for the lookup and the date filter: no Python object per vector.
    is_query = pc.and_(pc.equal(ids, args.portfolio_id), pc.equal(dates, args.as_of))
    match = pc.indices_nonzero(is_query).to_numpy()
    if len(match) == 0:
        raise missing_state_error(tables, space, args.portfolio_id, args.as_of)
    searched = pc.invert(is_query)
    if not args.all_dates:
        first, last = (args.start, args.end) if args.start or args.end else (args.as_of,) * 2
        if first:
            searched = pc.and_(searched, pc.greater_equal(dates, first))
        if last:
            searched = pc.and_(searched, pc.less_equal(dates, last))
    rows = pc.indices_nonzero(searched).to_numpy()
    top, cosine, euclidean = nearest(
        vectors, np.array(vectors[match[0]]), args.k, norms, rows=rows,
        tie_keys=lambda picked: [_strings(ids, picked), _strings(dates, picked)],
    )  # fmt: skip
    top_ids, top_dates = ids.take(pa.array(top)), dates.take(pa.array(top))
    lines = [HEADER, *(f"{c:.6f},{e:.6f},{pid},{day}" for c, e, pid, day in zip(
        cosine, euclidean, top_ids.to_pylist(), top_dates.to_pylist(), strict=True))]  # fmt: skip
    sys.stdout.write("\n".join(lines) + "\n")
    if len(top) == 0:
        print(f"no other {model_id} states on the dates searched; try --all-dates",
              file=sys.stderr)  # fmt: skip
    return 0


def _strings(array: pa.Array, rows: np.ndarray) -> np.ndarray:
    return np.array(array.take(pa.array(rows)).to_pylist())
