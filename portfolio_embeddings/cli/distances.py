"""`distances`: the stored states of a date closest to a reference prototype (CSV), from
portfolio_reference_distances (docs/analytics.md)."""

from __future__ import annotations

import duckdb

from portfolio_embeddings.cli import options
from portfolio_embeddings.cli.database import Tables

TABLE = "portfolio_reference_distances"


def add_parser(subparsers) -> None:
    parser = options.command(
        subparsers,
        "distances",
        "the states of a date closest to a reference prototype (CSV)",
        [
            "portfolio-embeddings distances --as-of 2024-10-31",
            "portfolio-embeddings distances --as-of 2024-10-31 "
            "--reference demo_stress_2024_10 --k 20",
        ],
        "A reference's prototype is the mean vector of the states seeds/reference_states.csv "
        "names; the states are listed closest first, from portfolio_reference_distances.",
    )
    options.add_as_of(parser, required=True, help="the date whose states are ranked")
    parser.add_argument("--reference", metavar="LABEL",
                        help="the reference_label (default: the only reference, "
                        "if there is one)")  # fmt: skip
    parser.add_argument("--k", type=options.positive_int, default=10, metavar="N",
                        help="how many states to list (default 10)")  # fmt: skip
    options.add_model_id(parser, "a numeric model (default model_id of dbt_project.yml)")
    options.add_common(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    args.model_id = args.model_id or options.default_var(args, "model_id")
    tables = Tables(args.target, options.project_dir(args))
    table = tables.name(TABLE)
    try:
        labels = [
            label
            for (label,) in tables.con.execute(
                f"select distinct reference_label from {table} where model_id = ? order by 1",
                [args.model_id],
            ).fetchall()
        ]
    except duckdb.CatalogException:
        raise options.UsageError(
            f"no {TABLE} table yet: run `make run` (dbt seed, then dbt run)"
        ) from None
    if not labels:
        raise options.UsageError(
            f"no reference distances for {args.model_id}: list references in "
            "seeds/reference_states.csv, then `dbt seed` and `dbt run`"
        )
    reference = args.reference
    if reference is None:
        if len(labels) > 1:
            raise options.UsageError(
                f"several references, choose one: --reference {' | '.join(labels)}"
            )
        reference = labels[0]
    elif reference not in labels:
        raise options.UsageError(
            f"unknown reference {reference!r} for {args.model_id}; known: {', '.join(labels)}"
        )
    rows = tables.con.execute(
        "select distance_rank, portfolio_id, euclidean_distance, cosine_similarity "
        f"from {table} where model_id = ? and reference_label = ? and as_of_date = ? "
        "order by distance_rank limit ?",
        [args.model_id, reference, args.as_of, args.k],
    ).fetchall()
    if not rows:
        raise options.UsageError(
            f"no {args.model_id} states on {args.as_of} ranked against {reference!r}"
        )
    print("reference_label,as_of_date,rank,portfolio_id,euclidean_distance,cosine_similarity")
    for rank, pid, distance, cosine in rows:
        print(f"{reference},{args.as_of},{rank},{pid},{distance:.6f},{cosine:.6f}")
    return 0
