"""The rows of joint_embeddings: the portfolio branch of the joint embedding space.

The v1 joint card is the identity of one numeric card: the joint vector is the numeric
vector, byte for byte. So the rows leave the vector out: the shared_table writer copies
it from the numeric row inside the target's database (the model's meta `vector_from`),
and a row whose state has no numeric row only deletes its key. The vectors never pass
through Python, nor through DuckDB from an ATTACHed PostgreSQL. A card of another kind
would combine branches here.
"""

from __future__ import annotations

import duckdb

from portfolio_embeddings.sql import sql_literal
from python_encoders import JointCard


def joint_embedding_rows(
    states: duckdb.DuckDBPyRelation,
    card: JointCard,
    run_model_id: str,
) -> duckdb.DuckDBPyRelation:
    """For each state the run re-encoded (`states`, int_portfolio_states_to_encode):
    its joint row without the vector, which the writer takes from the state's numeric
    row (entity_scope names it). Nothing when the joint card's source is not the run's
    numeric card: the run re-encoded none of its source's rows."""
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
    follows = "true" if source_model == run_model_id else "false"
    return states.filter(follows).project(
        f"""
        {literal["joint_type"]} as joint_type,
        as_of_date,
        json_object(
            'entity_type', 'PORTFOLIO',
            'portfolio_id', portfolio_id,
            'as_of_date', cast(as_of_date as varchar),
            'source_model_id', {literal["source_model_id"]},
            'source_fingerprint', source_fingerprint,
            'joint_spec_hash', {literal["joint_spec_hash"]}
        ) as entity_scope,
        {literal["model_id"]} as model_id,
        cast(null as varchar) as vector_ref,
        current_timestamp as created_at
        """
    )
