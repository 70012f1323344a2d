{#-
  Every report of the run's dates and portfolio_ids (limit narrows states, later),
  with report_problem when it cannot stand for a portfolio state (null otherwise):
    invalid_portfolio_id  null, empty or whitespace-only, longer than the platform's
                          64 characters, or holding a NUL (PostgreSQL text cannot)
    missing_as_of_date    null as_of_date
    missing_report_id     null report_id
    duplicate_report_id   a report_id that more than one selected row carries
  A report with a problem never decides a state: the state is decided among the rest
  (int_portfolio_states), and portfolio_feature_rejects records the report.
  report_fingerprint identifies the row by its key columns, so that a reject recorded
  once is kept, not found again, while the row stays as it is.
  The key columns only: the JSON payload is read once, for the winning reports
  (int_portfolio_states).
-#}
{%- set run_vars = portfolio_vars() -%}

with

reports as (

    select
        report_id,
        portfolio_id,
        as_of_date,
        created_at
    from {{ ref('stg_portfolio_risk__reports') }}
    where {{ portfolio_selection(run_vars) }}

),

repeated_report_ids as (

    -- from the staging view, not the reports CTE: a CTE read twice is materialized
    -- (a copy of every key row, about 0.4 s per 1M reports)
    select report_id
    from {{ ref('stg_portfolio_risk__reports') }}
    where
        {{ portfolio_selection(run_vars) }}
        and report_id is not null
    group by report_id
    having count(*) > 1

)

select
    reports.report_id,
    reports.portfolio_id,
    reports.as_of_date,
    reports.created_at,
    case
        when
            reports.portfolio_id is null
            or {{ is_blank_text('reports.portfolio_id') }}
            or length(reports.portfolio_id) > 64
            or contains(reports.portfolio_id, chr(0))
            then 'invalid_portfolio_id'
        when reports.as_of_date is null then 'missing_as_of_date'
        when reports.report_id is null then 'missing_report_id'
        when repeated_report_ids.report_id is not null then 'duplicate_report_id'
    end as report_problem,
    md5(concat_ws(
        chr(30),
        coalesce(reports.report_id, chr(31)),
        coalesce(reports.portfolio_id, chr(31)),
        coalesce(cast(reports.as_of_date as {{ text_type() }}), chr(31)),
        coalesce(cast(reports.created_at as {{ text_type() }}), chr(31))
    )) as report_fingerprint
from reports
left join repeated_report_ids
    on reports.report_id = repeated_report_ids.report_id
