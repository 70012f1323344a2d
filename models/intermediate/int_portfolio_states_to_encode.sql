{#-
  The selected states this run (re-)encodes, numbered 0..n-1 in (portfolio_id,
  as_of_date) order (state_idx: the row of the embedding matrix). A state is left out
  when what is stored for it is already made from its current winning report
  (source_fingerprint) under the run's cards (spec hashes):
    - a numeric row of the run's model_id with that fingerprint and spec hash, and,
      when the joint card follows that model, a joint row with the same fingerprint;
    - or no numeric row (nor joint row) and a no_usable_features reject recorded for
      that fingerprint.
  With the var rebuild, every selected state is re-encoded. A table: the outputs are
  compared before any of them is written.
-#}
{%- set run_vars = portfolio_vars() -%}
{%- set numeric = existing_output_or_empty('numeric_window_embeddings', {
    'entity_type': 'varchar', 'entity_id': 'varchar', 'as_of_date': 'date',
    'model_id': 'varchar', 'window_spec': 'json'}) -%}
{%- set joint = existing_output_or_empty('joint_embeddings', {
    'as_of_date': 'date', 'model_id': 'varchar', 'entity_scope': 'json'}) -%}
{%- set rejects = existing_output_or_empty('portfolio_feature_rejects', {
    'portfolio_id': 'varchar', 'as_of_date': 'date', 'reason': 'varchar',
    'source_fingerprint': 'varchar'}) -%}

with

states as (

    select * from {{ ref('int_portfolio_states') }}

),

cards as (

    select * from {{ ref('int_encoder_cards') }}

),

stored_vectors as (

    select
        entity_id as portfolio_id,
        as_of_date,
        {{ json_text_field('window_spec', 'source_fingerprint') }} as source_fingerprint,
        {{ json_text_field('window_spec', 'encoder_spec_hash') }} as encoder_spec_hash
    from {{ numeric }}
    where
        entity_type = 'PORTFOLIO'
        and model_id = (select cards.model_id from cards)
        and {{ portfolio_selection(run_vars, 'entity_id') }}

),

stored_joint as (

    select
        {{ json_text_field('entity_scope', 'portfolio_id') }} as portfolio_id,
        as_of_date,
        {{ json_text_field('entity_scope', 'source_fingerprint') }} as source_fingerprint,
        {{ json_text_field('entity_scope', 'joint_spec_hash') }} as joint_spec_hash
    from {{ joint }}
    where
        model_id = (select cards.joint_model_id from cards)
        and {{ portfolio_selection(run_vars, json_text_field('entity_scope', 'portfolio_id')) }}

),

recorded_without_features as (

    select distinct
        portfolio_id,
        as_of_date,
        source_fingerprint
    from {{ rejects }}
    where
        reason = 'no_usable_features'
        and {{ portfolio_selection(run_vars) }}

),

assessed as (

    -- one pass over the states (the view is computed once): is what is stored current?
    select
        states.*,
        case
            when stored_vectors.portfolio_id is not null
                then
                    stored_vectors.source_fingerprint = states.source_fingerprint
                    and stored_vectors.encoder_spec_hash = cards.encoder_spec_hash
                    and (
                        not cards.joint_follows
                        or (
                            stored_joint.source_fingerprint = states.source_fingerprint
                            and stored_joint.joint_spec_hash = cards.joint_spec_hash
                        )
                    )
            else
                recorded_without_features.portfolio_id is not null
                and (not cards.joint_follows or stored_joint.portfolio_id is null)
        end as is_current
    from states
    cross join cards
    left join stored_vectors
        on
            states.portfolio_id = stored_vectors.portfolio_id
            and states.as_of_date = stored_vectors.as_of_date
    left join stored_joint
        on
            states.portfolio_id = stored_joint.portfolio_id
            and states.as_of_date = stored_joint.as_of_date
    left join recorded_without_features
        on
            states.portfolio_id = recorded_without_features.portfolio_id
            and states.as_of_date = recorded_without_features.as_of_date
            and states.source_fingerprint = recorded_without_features.source_fingerprint

)

select
    row_number() over (order by portfolio_id, as_of_date) - 1 as state_idx,
    report_id,
    portfolio_id,
    as_of_date,
    risk_metrics,
    exposures_by_sector,
    exposures_by_factor,
    created_at,
    source_fingerprint
from assessed
where {{ run_vars.rebuild }} or not coalesce(is_current, false)
