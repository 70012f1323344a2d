"""`map`: a PNG of the portfolios of a date, projected to 2-D (portfolio_embeddings.maps)."""

from __future__ import annotations

from portfolio_embeddings.cli import options
from portfolio_embeddings.cli.database import Tables
from portfolio_embeddings.cli.vectors import missing_date_error, missing_state_error
from portfolio_embeddings.search import load_vectors, space_of
from python_encoders import JOINT_CARDS

PROTOTYPES = "portfolio_reference_prototypes"


def add_parser(subparsers) -> None:
    parser = options.command(
        subparsers,
        "map",
        "a PNG of the portfolios of a date (PCA of their vectors, coloured by style or sector)",
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


def prototypes_table(tables: Tables) -> str:
    """Where the reference prototypes would be: beside numeric_window_embeddings, in the
    marts' database and schema (whether the table exists is maps.prototypes' concern)."""
    numeric = tables.name("numeric_window_embeddings")  # attaches the marts' database
    relation = tables.locations.relations.get(PROTOTYPES)
    if relation is not None:
        return relation.relation_name
    return numeric.rsplit(".", 1)[0] + f'."{PROTOTYPES}"'


def run(args) -> int:
    from portfolio_embeddings import maps

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
    where = (tables.con, numeric, tables.name("portfolio_risk_reports"), model_id)
    labels, colour_by = maps.styles(*where, args.as_of), "style"
    if not labels:
        labels, colour_by = maps.dominant_sectors(*where, args.as_of), "dominant sector"
    references = maps.prototypes(tables.con, prototypes_table(tables), model_id)
    try:
        summary = maps.draw(str(out), ids, dates, vectors, args.as_of, labels, args.highlight,
                            model_id, colour_by=colour_by, references=references)  # fmt: skip
    except OSError as err:
        raise options.UsageError(f"cannot write --out {args.out}: {err.strerror}") from None
    named = ", ".join(summary.outliers[: maps.NAMED_OUTLIERS]) or "none"
    if len(summary.outliers) > maps.NAMED_OUTLIERS:
        named += f" and {len(summary.outliers) - maps.NAMED_OUTLIERS} more"
    print(
        f"wrote {out}: {summary.states} portfolios coloured by {colour_by} "
        f"({len(summary.labels)} groups), reference prototypes: "
        f"{', '.join(summary.prototypes) or 'none'}; outliers not drawn: {named}"
    )
    return 0
