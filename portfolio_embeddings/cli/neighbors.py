"""`neighbors`: the k stored portfolio states most similar to one (CSV)."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from portfolio_embeddings.cli import options
from portfolio_embeddings.cli.database import Tables
from portfolio_embeddings.search import load_vectors, nearest
from portfolio_embeddings.vector_cache import cached_vectors

TABLE = "numeric_window_embeddings"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("neighbors", help="the k most similar portfolio states (CSV)")
    parser.add_argument("--portfolio-id", required=True)
    options.add_as_of(parser)
    options.add_model_id(parser)
    parser.add_argument("--k", type=options.positive_int, default=10)
    parser.add_argument(
        "--no-cache", action="store_true",
        help="read the vectors from the database, not the memory-mapped cache",
    )  # fmt: skip
    options.add_target(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    tables = Tables(args.target)
    con, table = tables.con, tables.name(TABLE)
    norms = None
    if args.no_cache:
        ids, dates, vectors = load_vectors(con, table, args.model_id, keys_as_numpy=False)
    else:
        ids, dates, vectors, norms = cached_vectors(
            con, table, args.model_id, tables.location(TABLE),
            lambda: load_vectors(con, table, args.model_id, keys_as_numpy=False),
        )  # fmt: skip
    # Arrow compute for the lookup: no Python string object per stored vector.
    is_query = pc.and_(pc.equal(ids, args.portfolio_id), pc.equal(dates, args.as_of))
    match = pc.indices_nonzero(is_query).to_numpy()
    if len(match) == 0:
        raise options.UsageError(
            f"no {args.model_id} embedding for portfolio {args.portfolio_id!r} on {args.as_of}"
        )
    top, cosine, euclidean = nearest(vectors, np.array(vectors[match[0]]), args.k, norms)
    top_ids, top_dates = ids.take(top).to_pylist(), dates.take(top).to_pylist()
    print("cosine,euclidean,portfolio_id,as_of_date")
    for c, e, pid, day in zip(cosine, euclidean, top_ids, top_dates, strict=True):
        print(f"{c:.6f},{e:.6f},{pid},{day}")
    return 0
