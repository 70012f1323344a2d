{#- dbt-spark takes no custom incremental strategy: there, the same rule is the
    spark_replace_states materialization (macros/materializations/spark_replace_states.sql) -#}
{{ config(
    materialized='incremental' if target.type == 'duckdb' else 'spark_replace_states',
    incremental_strategy='replace_states',
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}
{#-
  The current record of what could not be used, with a reason, so nothing is dropped
  silently. Rejected are: every report that cannot stand for a state (a report_problem
  of int_portfolio_reports: invalid_portfolio_id, missing_as_of_date,
  missing_report_id, duplicate_report_id), every JSON entry that is not a usable
  number (or is shadowed by a later duplicate key), every JSON column that is not an
  object (or not JSON at all), and every selected (portfolio, date) left with no
  usable feature at all; that last one gets no vector.
  A run replaces the entry and state rejects of the states it re-encodes
  (int_portfolio_states_to_encode) and keeps every other state's; the report rejects
  of the run's dates and portfolio_ids are kept while their report is as it was, and
  go when it is gone or fixed (macros/materializations/replace_states.sql).

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
            'entry_position': 'entry_position',
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
        rejected_entry.entry_position,
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
        cast(null as integer) as entry_position,
        cast(null as {{ text_type() }}) as raw_value,
        'no_usable_features' as reason,
        source_fingerprint
    from states
    where n_usable = 0

),

report_rejects as (

    select
        portfolio_id,
        as_of_date,
        report_id,
        cast(null as {{ text_type() }}) as feature_group,
        cast(null as {{ text_type() }}) as feature_key,
        cast(null as integer) as entry_position,
        -- the id as JSON text: whitespace and control characters stay visible
        case
            when report_problem = 'invalid_portfolio_id'
                then left({{ json_string_literal('portfolio_id') }}, 200)
        end as raw_value,
        report_problem as reason,
        report_fingerprint as source_fingerprint
    from {{ ref('int_portfolio_reports') }}
    where report_problem is not null

),

found as (

    select * from entry_rejects
    union all
    select * from empty_states
    union all
    select * from report_rejects

)

select
    *,
    current_timestamp as found_at
from found
