{#-
  The portfolio states this run encodes, one per (portfolio_id, as_of_date), each with
  its winning report: the latest created_at, ties broken by the greatest report_id.
  The run's vars (as_of, portfolio_ids, limit) narrow the states here, once, so every
  model downstream sees the same selection. state_idx numbers the states 0..n-1 in
  (portfolio_id, as_of_date) order: the row of the embedding matrix.
-#}
{%- set run_vars = portfolio_vars() -%}

with

reports as (

    select * from {{ ref('stg_portfolio_risk__reports') }}
    where {{ portfolio_selection(run_vars) }}

),

winners as (

    -- an aggregate, not a window: the JSON payload is never sorted
    select
        portfolio_id,
        as_of_date,
        arg_max(report_id, (created_at, report_id)) as report_id
    from reports
    group by portfolio_id, as_of_date

),
{%- if run_vars.limit is not none %}

limited_portfolios as (

    -- the old script's --limit: the first N portfolio_ids (ascending) with a report
    select distinct portfolio_id
    from winners
    order by portfolio_id
    limit {{ run_vars.limit }}

),
{%- endif %}

numbered_states as (

    select
        row_number() over (order by portfolio_id, as_of_date) - 1 as state_idx,
        report_id
    from winners
    {%- if run_vars.limit is not none %}
    where portfolio_id in (select portfolio_id from limited_portfolios)
    {%- endif %}

)

select
    numbered_states.state_idx,
    reports.report_id,
    reports.portfolio_id,
    reports.as_of_date,
    reports.risk_metrics,
    reports.exposures_by_sector,
    reports.exposures_by_factor,
    reports.created_at
from numbered_states
inner join reports
    on numbered_states.report_id = reports.report_id
