"""The rows of joint_embeddings: the portfolio branch of the joint embedding space.

The v1 joint card is the identity of one numeric card: the joint vector is the numeric
vector, byte for byte, so the rows are a DuckDB projection of the numeric rows (no
decode, no per-row Python). A card of another kind would combine branches here.
"""

from __future__ import annotations

import duckdb

from portfolio_embeddings.sql import sql_literal
from python_encoders import JointCard


def joint_embedding_rows(
    numeric: duckdb.DuckDBPyRelation,
    states: duckdb.DuckDBPyRelation,
    card: JointCard,
    run_model_id: str,
) -> duckdb.DuckDBPyRelation:
    """For each state the run re-encoded (`states`, int_portfolio_states_to_encode): its
    joint row from its numeric row in `numeric`, or a tombstone (null vector: the
    writer deletes the key) when it has none. Nothing when the joint card's source is
    not the run's numeric card: the run re-encoded none of its source's rows."""
    if card.kind != "identity" or len(card.sources) != 1:
        raise ValueError(f"joint card {card.model_id!r}: kind {card.kind!r} is not implemented")
    (source_model,) = card.sources
    constants = {
        "joint_type": card.joint_type,
        "model_id": card.model_id,
        "source_model_id": source_model,
        "joint_spec_hash": card.spec_hash,
    }
    literal = {name: sql_literal(value) for name, value in constants.items()}
    # nothing re-encoded (or not this card's source): no read of the numeric table
    follows = source_model == run_model_id and bool(states.limit(1).fetchall())
    run_states = states.set_alias("states").join(
        numeric.set_alias("numeric").filter(
            f"entity_type = 'PORTFOLIO' and model_id = {literal['source_model_id']}"
        ),
        "numeric.entity_id = states.portfolio_id and numeric.as_of_date = states.as_of_date",
        how="left",
    )
    return run_states.filter("true" if follows else "false").project(
        f"""
        {literal["joint_type"]} as joint_type,
        states.as_of_date as as_of_date,
        case
            when numeric.vector is null then json_object('portfolio_id', states.portfolio_id)
            else json_object(
                'entity_type', 'PORTFOLIO',
                'portfolio_id', states.portfolio_id,
                'as_of_date', cast(states.as_of_date as varchar),
                'source_model_id', numeric.model_id,
                'source_fingerprint', states.source_fingerprint,
                'joint_spec_hash', {literal["joint_spec_hash"]}
            )
        end as entity_scope,
        {literal["model_id"]} as model_id,
        numeric.vector as vector,
        cast(null as varchar) as vector_ref,
        current_timestamp as created_at
        """
    )
