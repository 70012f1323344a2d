"""`map`: a PNG of the portfolios of a date, projected to 2-D (portfolio_embeddings.maps)."""

from __future__ import annotations

from portfolio_embeddings.cli import options
from portfolio_embeddings.cli.database import Tables
from portfolio_embeddings.search import load_vectors


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("map", help="a PNG of the portfolios of a date (PCA)")
    options.add_as_of(parser)
    parser.add_argument("--highlight", help="a portfolio_id whose path is drawn")
    options.add_model_id(parser)
    parser.add_argument("--out", default="portfolio_map.png")
    options.add_target(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from portfolio_embeddings.maps import dominant_sectors, draw

    tables = Tables(args.target)
    ids, dates, vectors = load_vectors(
        tables.con, tables.name("numeric_window_embeddings"), args.model_id
    )
    if not (dates == args.as_of).any():
        raise options.UsageError(f"no {args.model_id} vectors on {args.as_of}")
    if args.highlight and not (ids == args.highlight).any():
        raise options.UsageError(f"no {args.model_id} vectors for portfolio {args.highlight!r}")
    sectors = dominant_sectors(
        tables.con,
        tables.name("numeric_window_embeddings"),
        tables.name("portfolio_risk_reports"),
        args.model_id,
        args.as_of,
    )
    draw(args.out, ids, dates, vectors, args.as_of, sectors, args.highlight, args.model_id)
    print(f"wrote {args.out}")
    return 0
