"""joint_embeddings: the portfolio branch of the joint embedding space.

Reads this run's portfolio states from numeric_window_embeddings (the source model of
the joint card) and writes one joint row each. The v1 card is the identity, so the
vector passes through DuckDB untouched (no decode, no per-row Python); a card of
another kind would combine branches here. Same sharing rules as the numeric table:
keyed_replace on (joint_type, as_of_date, model_id, portfolio_id), never dropped.
"""

from portfolio_embeddings.sql import sql_literal
from python_encoders import get_joint_card


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="keyed_replace",
        unique_key=["joint_type", "as_of_date", "model_id", "entity_scope->>'portfolio_id'"],
        full_refresh=False,
        on_schema_change="ignore",
    )
    card = get_joint_card(dbt.config.get("joint_model_id"))
    if card.kind != "identity" or len(card.sources) != 1:
        raise ValueError(f"joint card {card.model_id!r}: kind {card.kind!r} is not implemented")
    (source_model,) = card.sources

    numeric = dbt.ref("numeric_window_embeddings").set_alias("numeric")
    states = dbt.ref("stg_portfolio_risk_reports").set_alias("states")
    return (
        numeric.join(
            states,
            "numeric.entity_id = states.portfolio_id and numeric.as_of_date = states.as_of_date",
        )
        .filter(
            f"numeric.entity_type = 'PORTFOLIO' and numeric.model_id = {sql_literal(source_model)}"
        )
        .project(
            f"""
        {sql_literal(card.joint_type)} as joint_type,
        numeric.as_of_date as as_of_date,
        json_object(
            'entity_type', 'PORTFOLIO',
            'portfolio_id', numeric.entity_id,
            'as_of_date', cast(numeric.as_of_date as varchar),
            'source_model_id', numeric.model_id,
            'joint_spec_hash', {sql_literal(card.spec_hash)}
        ) as entity_scope,
        {sql_literal(card.model_id)} as model_id,
        numeric.vector as vector,
        cast(null as varchar) as vector_ref,
        current_timestamp as created_at
        """
        )
    )
