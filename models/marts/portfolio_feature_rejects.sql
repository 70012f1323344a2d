{#- dbt-spark takes no custom incremental strategy: there, the same rule is the
    spark_replace_states materialization (macros/materializations/spark_replace_states.sql) -#}
{{ config(
    materialized='spark_replace_states' if target.type in ['spark', 'databricks'] else 'incremental',
    incremental_strategy='replace_states',
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}
{#-
  The current record of what could not be used, per state, with a reason, so nothing
  is dropped silently. A run replaces the rejects of the states it re-encodes
  (int_portfolio_states_to_encode) and keeps every other state's. Rejected are:
  every JSON entry that is not a usable number, every JSON column that is not an object
  (or null), and every selected (portfolio, date) left with no usable feature at all;
  that last one gets no vector.

  The entries are a view over the unnest (the hot spot), so they are read once: one
  aggregate per state gives both its rejected entries and its usable count.
-#}

with

entries_by_state as (

    select
        state_idx,
        count(*) filter (where reject_reason is null) as n_usable,
        {{ list_of_structs({
            'feature_group': 'feature_group',
            'feature_key': 'feature_key',
            'raw_value': 'raw_value',
            'reason': 'reject_reason',
        }) }} filter (where reject_reason is not null) as rejected
    from {{ ref('int_portfolio_feature_entries') }}
    group by state_idx

),

states as (

    select
        reports.portfolio_id,
        reports.as_of_date,
        reports.report_id,
        reports.source_fingerprint,
        coalesce(entries_by_state.n_usable, 0) as n_usable,
        entries_by_state.rejected
    from {{ ref('int_portfolio_states_to_encode') }} as reports
    left join entries_by_state
        on reports.state_idx = entries_by_state.state_idx

),

entry_rejects as (

    select
        portfolio_id,
        as_of_date,
        report_id,
        rejected_entry.feature_group,
        rejected_entry.feature_key,
        rejected_entry.raw_value,
        rejected_entry.reason,
        source_fingerprint
    from states, {{ unnest_list('rejected', 'unnested', 'rejected_entry') }}

),

empty_states as (

    select
        portfolio_id,
        as_of_date,
        report_id,
        cast(null as {{ text_type() }}) as feature_group,
        cast(null as {{ text_type() }}) as feature_key,
        cast(null as {{ text_type() }}) as raw_value,
        'no_usable_features' as reason,
        source_fingerprint
    from states
    where n_usable = 0

),

found as (

    select * from entry_rejects
    union all
    select * from empty_states

)

select
    *,
    current_timestamp as found_at
from found
