"""The rows of joint_embeddings: the portfolio branch of the joint embedding space.

The v1 joint card is the identity of one numeric card: the joint vector is the numeric
vector, byte for byte, so the rows are a DuckDB projection of the run's numeric rows (no
decode, no per-row Python). A card of another kind would combine branches here.
"""

from __future__ import annotations

import duckdb

from python_encoders import JointCard


def joint_embedding_rows(
    numeric: duckdb.DuckDBPyRelation, states: duckdb.DuckDBPyRelation, card: JointCard
) -> duckdb.DuckDBPyRelation:
    """One joint row per state of `states` (int_portfolio_states) that has a numeric
    row of the card's source model in `numeric` (numeric_window_embeddings)."""
    if card.kind != "identity" or len(card.sources) != 1:
        raise ValueError(f"joint card {card.model_id!r}: kind {card.kind!r} is not implemented")
    (source_model,) = card.sources
    constants = {
        "joint_type": card.joint_type,
        "model_id": card.model_id,
        "source_model_id": source_model,
        "joint_spec_hash": card.spec_hash,
    }
    literal = {name: "'" + value.replace("'", "''") + "'" for name, value in constants.items()}
    run_states = numeric.set_alias("numeric").join(
        states.set_alias("states"),
        "numeric.entity_id = states.portfolio_id and numeric.as_of_date = states.as_of_date",
    )
    return run_states.filter(
        f"numeric.entity_type = 'PORTFOLIO' and numeric.model_id = {literal['source_model_id']}"
    ).project(
        f"""
        {literal["joint_type"]} as joint_type,
        numeric.as_of_date as as_of_date,
        json_object(
            'entity_type', 'PORTFOLIO',
            'portfolio_id', numeric.entity_id,
            'as_of_date', cast(numeric.as_of_date as varchar),
            'source_model_id', numeric.model_id,
            'joint_spec_hash', {literal["joint_spec_hash"]}
        ) as entity_scope,
        {literal["model_id"]} as model_id,
        numeric.vector as vector,
        cast(null as varchar) as vector_ref,
        current_timestamp as created_at
        """
    )
