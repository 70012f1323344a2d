{{ config(materialized='table') }}

{#-
  What the latest run could not use, with a reason, so nothing is dropped silently:
  every JSON entry that is not a usable number, every JSON column that is not an object
  (or null), and every selected (portfolio, date) left with no usable feature at all;
  that last one gets no vector.
-#}

with

entry_rejects as (

    select
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        feature_key,
        raw_value,
        reject_reason as reason
    from {{ ref('int_portfolio_feature_entries') }}
    where reject_reason is not null

),

states_with_features as (

    select distinct state_idx
    from {{ ref('int_portfolio_feature_entries') }}
    where reject_reason is null

),

empty_states as (

    select
        reports.portfolio_id,
        reports.as_of_date,
        reports.report_id,
        cast(null as varchar) as feature_group,
        cast(null as varchar) as feature_key,
        cast(null as varchar) as raw_value,
        'no_usable_features' as reason
    from {{ ref('stg_portfolio_risk_reports') }} as reports
    anti join states_with_features
        on reports.state_idx = states_with_features.state_idx

)

select * from entry_rejects
union all
select * from empty_states
