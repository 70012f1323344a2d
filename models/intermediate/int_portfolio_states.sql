{#-
  The portfolio states the run considers, one per (portfolio_id, as_of_date), each with
  its winning report: the latest created_at, ties broken by the greatest report_id; a
  report without created_at ranks below every dated one. Only reports without a
  report_problem (int_portfolio_reports) compete. The run's vars (as_of or start_date
  / end_date, portfolio_ids: in int_portfolio_reports; limit: here) narrow the states
  once, so every model downstream sees the same selection.
  source_fingerprint is what a vector is made from (the report and its content): a
  stored row with another one is stale.
-#}
{%- set run_vars = portfolio_vars() -%}

with

candidates as (

    select
        report_id,
        portfolio_id,
        as_of_date,
        created_at
    from {{ ref('int_portfolio_reports') }}
    where report_problem is null

),

winners as (

    -- an aggregate over the key columns: the JSON payload is never sorted. A null
    -- created_at would compare above every date: `created_at is not null` ranks it first.
    select
        portfolio_id,
        as_of_date,
        {{ arg_max_by(
            'report_id', ['created_at is not null', 'created_at', 'report_id']
        ) }} as report_id
    from candidates
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

selected_states as (

    select report_id
    from winners
    {%- if run_vars.limit is not none %}
    where portfolio_id in (select portfolio_id from limited_portfolios)
    {%- endif %}

),

reports as (

    -- the payload, read once. A winning report_id is carried by no other report of the
    -- run's selection (else it would be a duplicate_report_id): one row per state
    select * from {{ ref('stg_portfolio_risk__reports') }}
    where {{ portfolio_selection(run_vars) }}

)

select
    reports.report_id,
    reports.portfolio_id,
    reports.as_of_date,
    reports.risk_metrics,
    reports.exposures_by_sector,
    reports.exposures_by_factor,
    reports.created_at,
    -- chr(30) / chr(31) cannot occur in JSON text: the pieces cannot run together
    md5(concat_ws(
        chr(30),
        reports.report_id,
        coalesce(cast(reports.created_at as {{ text_type() }}), chr(31)),
        coalesce(cast(reports.risk_metrics as {{ text_type() }}), chr(31)),
        coalesce(cast(reports.exposures_by_sector as {{ text_type() }}), chr(31)),
        coalesce(cast(reports.exposures_by_factor as {{ text_type() }}), chr(31))
    )) as source_fingerprint
from selected_states
inner join reports
    on selected_states.report_id = reports.report_id
