"""`map`: a PNG of the portfolios of a date, projected to 2-D (portfolio_embeddings.maps)."""

from __future__ import annotations

from portfolio_embeddings.cli import options
from portfolio_embeddings.cli.database import Tables
from portfolio_embeddings.cli.vectors import missing_date_error, missing_state_error
from portfolio_embeddings.search import load_vectors, space_of
from python_encoders import JOINT_CARDS


def add_parser(subparsers) -> None:
    parser = options.command(
        subparsers,
        "map",
        "a PNG of the portfolios of a date (PCA of their vectors, coloured by sector)",
        [
            "portfolio-embeddings map --as-of 2025-01-31 --out map.png",
            "portfolio-embeddings map --as-of 2025-01-31 --highlight P00001 --out /tmp/p1.png",
        ],
    )
    options.add_as_of(parser, required=True, help="the date whose portfolios are drawn")
    parser.add_argument("--highlight", metavar="ID",
                        help="a portfolio whose path over every date is drawn")  # fmt: skip
    options.add_model_id(parser, "a numeric model (default model_id of dbt_project.yml)")
    parser.add_argument("--out", default="portfolio_map.png", metavar="FILE",
                        help="the PNG to write (default portfolio_map.png; its folder "
                        "must exist)")  # fmt: skip
    options.add_common(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from portfolio_embeddings.maps import dominant_sectors, draw

    out = options.output_file(args.out, "--out")
    model_id = args.model_id or options.default_var(args, "model_id")
    if model_id in JOINT_CARDS:
        (source,) = JOINT_CARDS[model_id].sources
        raise options.UsageError(f"map draws numeric models; {model_id}'s vectors are "
                                 f"{source}'s: use --model-id {source}")  # fmt: skip
    space = space_of(model_id)
    tables = Tables(args.target, options.project_dir(args))
    numeric = tables.name("numeric_window_embeddings")
    ids, dates, vectors = load_vectors(tables.con, numeric, model_id)
    if not (dates == args.as_of).any():
        raise missing_date_error(tables, space, [args.as_of],
                                 f"no {model_id} vectors on {args.as_of}")  # fmt: skip
    if args.highlight and not (ids == args.highlight).any():
        raise missing_state_error(tables, space, args.highlight, args.as_of)
    sectors = dominant_sectors(
        tables.con, numeric, tables.name("portfolio_risk_reports"), model_id, args.as_of
    )
    try:
        draw(str(out), ids, dates, vectors, args.as_of, sectors, args.highlight, model_id)
    except OSError as err:
        raise options.UsageError(f"cannot write --out {args.out}: {err.strerror}") from None
    print(f"wrote {out}")
    return 0
