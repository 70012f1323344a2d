"""`show`: one CSV line per stored PORTFOLIO vector of a date range."""

from __future__ import annotations

import numpy as np

from portfolio_embeddings.cli import options
from portfolio_embeddings.cli.database import Tables


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("show", help="one line per stored vector (CSV)")
    options.add_as_of(parser, help="first date")
    parser.add_argument("--to", type=options.iso_date, help="last date (default: --as-of)")
    options.add_portfolio_ids(parser)
    options.add_target(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    tables = Tables(args.target)
    where = ["entity_type = 'PORTFOLIO'", "as_of_date between ? and ?"]
    params: list = [args.as_of, args.to or args.as_of]
    if args.portfolio_id:
        where.append(f"entity_id in ({', '.join('?' * len(args.portfolio_id))})")
        params += args.portfolio_id
    rows = tables.con.execute(
        "select cast(as_of_date as varchar), entity_id, model_id, vector "
        f"from {tables.name('numeric_window_embeddings')} "
        f"where {' and '.join(where)} order by as_of_date, entity_id, model_id",
        params,
    ).fetchall()
    if not rows:
        raise options.UsageError("no PORTFOLIO vectors for that date range and portfolio selection")
    print("as_of_date,portfolio_id,model_id,dim,l2_norm")
    for day, pid, model_id, vector in rows:
        v = np.frombuffer(vector, dtype="<f4") if vector is not None else np.empty(0, "<f4")
        print(f"{day},{pid},{model_id},{len(v)},{float(np.linalg.norm(v)):.6f}")
    return 0
