"""`explain`: the features that separate two portfolio states, as CSV (the numerics
are portfolio_embeddings.explain)."""

from __future__ import annotations

import sys

import numpy as np

from portfolio_embeddings import explain
from portfolio_embeddings.cli import options
from portfolio_embeddings.cli.database import Tables
from portfolio_embeddings.cli.vectors import missing_state_error
from portfolio_embeddings.project import ENTRIES_INPUT
from portfolio_embeddings.search import _binary_chunk_as_matrix, space_of
from python_encoders import JOINT_CARDS, get_card

HEADER = "feature,value_a,value_b,transformed_a,transformed_b,difference,share"


def add_parser(subparsers) -> None:
    parser = options.command(
        subparsers,
        "explain",
        "the features that separate two portfolio states, as CSV " + HEADER,
        [
            "portfolio-embeddings explain --portfolio-id P00001 --as-of 2025-01-31 --other P00002",
            "portfolio-embeddings explain --portfolio-id P00001 --as-of 2025-01-31 "
            "--other P00001 --other-as-of 2024-12-31 --top-k 5",
        ],
        "The encoder is linear in the transformed features (the card's transform of each "
        "value, summed per feature name), so the difference of two vectors is the "
        "projection of the difference of their features. Each line is a feature, largest "
        "squared difference first; share is its part of the squared distance between the "
        "two states' transformed features (the shares add up to 1). value_a / value_b are "
        "the reported values (empty where a state lacks the feature). The features are "
        "read from the reports the stored vectors were made from.",
    )
    parser.add_argument("--portfolio-id", required=True, metavar="ID",
                        help="the first portfolio (state a)")  # fmt: skip
    options.add_as_of(parser, required=True, help="the date of state a")
    parser.add_argument(
        "--other",
        required=True,
        metavar="ID",
        help="the second portfolio (state b; may be the same portfolio)",
    )
    parser.add_argument("--other-as-of", type=options.iso_date, metavar="YYYY-MM-DD",
                        help="the date of state b (default --as-of)")  # fmt: skip
    options.add_model_id(
        parser,
        "the model whose features are compared (default model_id "
        "of dbt_project.yml; a joint id means its numeric source)",
    )
    parser.add_argument(
        "--top-k",
        type=options.positive_int,
        metavar="N",
        help="only the N features that differ most (default all)",
    )
    options.add_common(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    other_as_of = args.other_as_of or args.as_of
    states = [(args.portfolio_id, args.as_of), (args.other, other_as_of)]
    if states[0] == states[1]:
        raise options.UsageError("state a and state b are the same; give another --other "
                                 "or --other-as-of")  # fmt: skip
    model_id = args.model_id or options.default_var(args, "model_id")
    if model_id in JOINT_CARDS:
        (model_id,) = JOINT_CARDS[model_id].sources  # the joint vector is that model's
    card, space = get_card(model_id), space_of(model_id)
    tables = Tables(args.target, options.project_dir(args))
    report_ids, stored = [], []
    for portfolio_id, as_of in states:
        found = tables.con.execute(
            f"select window_spec ->> 'report_id', vector from {tables.name(space.table)} "
            f"where {space.where_sql} and entity_id = ? and as_of_date = cast(? as date) "
            "and vector is not null",
            [model_id, portfolio_id, as_of],
        ).fetch_arrow_table()
        if found.num_rows == 0:
            raise missing_state_error(tables, space, portfolio_id, as_of)
        report_ids.append(found.column(0)[0].as_py())
        stored.append(_binary_chunk_as_matrix(found.column(1).chunk(0))[0])
    features = explain.state_features(
        tables.con,
        tables.locations.entries_sql,
        tables.locations.relations[ENTRIES_INPUT].relation_name,
        tables.name("portfolio_risk_reports"),
        tuple(report_ids),
    )
    batch = explain.as_batch(features)
    result = explain.difference(card, batch)
    for (portfolio_id, as_of), current in zip(
        states, explain.stored_matches_features(card, batch, np.stack(stored)), strict=True
    ):
        if not current:
            print(f"warning: the stored vector of {portfolio_id} on {as_of} was not made "
                  "from its report as it is now; run the backfill for that date",
                  file=sys.stderr)  # fmt: skip
    _write(result, args.top_k)
    vector_distance = float(np.sum((stored[0].astype(np.float64) - stored[1]) ** 2))
    print(
        f"squared distance: {result.squared_distance:.6f} between the transformed "
        f"features, {vector_distance:.6f} between the stored vectors",
        file=sys.stderr,
    )
    return 0


def _write(result: explain.Difference, top_k: int | None) -> None:
    n = len(result.names) if top_k is None else min(top_k, len(result.names))
    lines = [HEADER]
    for i in range(n):
        raw_a, raw_b = (_number(result.raw[s, i]) for s in (0, 1))
        lines.append(",".join([
            _csv_field(result.names[i]), raw_a, raw_b, _number(result.transformed[0, i]),
            _number(result.transformed[1, i]), _number(result.difference[i]),
            _number(result.share[i]),
        ]))  # fmt: skip
    sys.stdout.write("\n".join(lines) + "\n")


def _number(value: float) -> str:
    return "" if np.isnan(value) else repr(float(value))


def _csv_field(text: str) -> str:
    """A feature name as a CSV field (a sector such as "Real Estate, REITs" is quoted)."""
    if any(c in text for c in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
