"""Why two portfolio states are close or far: their features in the encoder's
transformed space, and each feature's share of the squared difference.

A card's vector is linear in the transformed features x (x[name] = the sum of t(value)
over a state's entries of that name; keyed_projection: z = x W), so the difference of
two vectors is the projection of x_a - x_b, and the features with the largest
(x_a - x_b)^2 are what separates them. The shares add up to 1 over the squared
distance |x_a - x_b|^2, which the keyed projection keeps approximately in the vectors.

The features come from the pipeline's own SQL (int_portfolio_feature_entries,
compiled by dbt: portfolio_embeddings.project), run on the two states' reports, so
they are exactly what the encoder read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from python_encoders import TRANSFORMS, FeatureBatch, ModelCard, encode

STATES_TABLE = "explain_states"  # a temporary table: the two states' reports


class ExplainError(LookupError):
    """The entries SQL does not read the relation it is expected to."""


@dataclass(frozen=True)
class Difference:
    """Per feature name (sorted by share, largest first): the raw values (NaN when a
    state lacks the feature), the transformed values (0 when absent), the difference
    and its share of the squared distance."""

    names: np.ndarray
    raw: np.ndarray  # (2, n)
    transformed: np.ndarray  # (2, n)
    difference: np.ndarray
    share: np.ndarray
    squared_distance: float


def state_features(con, entries_sql: str, input_relation: str, reports_table: str,
                   report_ids: tuple[str, str]) -> pa.Table:  # fmt: skip
    """(state_idx, feature_name, feature_value) of the usable entries of two reports,
    state_idx 0 and 1 in the order given, by the pipeline's entries SQL."""
    if input_relation not in entries_sql:  # it reads it once per JSON column
        raise ExplainError(f"the entries SQL does not read {input_relation}")
    con.execute(
        f"create or replace temporary table {STATES_TABLE} as "
        "select case when report_id = ? then 0 else 1 end as state_idx, report_id, "
        "portfolio_id, as_of_date, risk_metrics, exposures_by_sector, exposures_by_factor "
        f"from {reports_table} where report_id in (?, ?)",
        [report_ids[0], *report_ids],
    )
    sql = entries_sql.replace(input_relation, f"temp.main.{STATES_TABLE}")
    return con.execute(
        f"select state_idx, feature_name, feature_value from ({sql}) where reject_reason is null"
    ).to_arrow_table()


def as_batch(features: pa.Table) -> FeatureBatch:
    names = pc.dictionary_encode(features.column("feature_name").combine_chunks())
    return FeatureBatch(
        n_rows=2,
        row_index=features.column("state_idx").to_numpy().astype(np.int64),
        name_codes=names.indices.to_numpy().astype(np.int64),
        names=tuple(names.dictionary.to_pylist()),
        values=features.column("feature_value").to_numpy().astype(np.float64),
    )


def difference(card: ModelCard, batch: FeatureBatch) -> Difference:
    """Each feature's transformed values in the two states and share of the squared
    distance, as the encoder sums them (duplicate entries add up).

    >>> from python_encoders import get_card
    >>> batch = FeatureBatch.from_records(
    ...     2, [0, 0, 1], ["sector:Energy", "factor:value", "sector:Energy"], [3.0, 1.0, 2.0])
    >>> d = difference(get_card("num-portfolio-core-v1"), batch)
    >>> d.names.tolist(), np.round(d.share, 3).tolist(), bool(np.isclose(d.share.sum(), 1))
    (['factor:value', 'sector:Energy'], [0.853, 0.147], True)
    """
    transform = TRANSFORMS[card.transform]
    n_names = len(batch.names)
    cell = batch.row_index * n_names + batch.name_codes

    def per_cell(weights):
        return np.bincount(cell, weights=weights, minlength=2 * n_names).reshape(2, n_names)

    transformed = per_cell(transform(batch.values))
    present = per_cell(np.ones(len(batch.values))) > 0
    raw = np.where(present, per_cell(batch.values), np.nan)
    diff = transformed[0] - transformed[1]
    squared = diff**2
    total = float(squared.sum())
    names = np.array(batch.names, dtype=object)
    order = np.lexsort((names.astype(str), -squared))
    share = squared / total if total > 0 else np.zeros_like(squared)
    return Difference(names[order], raw[:, order], transformed[:, order], diff[order],
                      share[order], total)  # fmt: skip


def stored_matches_features(card: ModelCard, batch: FeatureBatch, stored: np.ndarray) -> list:
    """Whether each state's stored vector is its features' encoding (else the report
    changed after the vector was written)."""
    encoded = encode(card, batch)
    return [bool(np.allclose(encoded[i], stored[i], rtol=1e-5, atol=1e-6)) for i in range(2)]
