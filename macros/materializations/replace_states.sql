{#-
  incremental_strategy='replace_states' for portfolio_feature_rejects, the record per
  portfolio state and per rejected report. After dbt-duckdb's delete+insert, in the
  materialization's one transaction:
    - state rejects (entries, no usable features): the run's rows replace every row of
      the states the run re-encodes (int_portfolio_states_to_encode), also of those
      that now have none; every other state's rows stay as they are;
    - report rejects (reasons of int_portfolio_reports): within the run's dates and
      portfolio_ids, a stored one stays untouched while the run finds it again (same
      reason, same report_fingerprint), goes when the run does not, and only new ones
      are inserted, so a run with nothing new writes nothing.
-#}
{% macro get_incremental_replace_states_sql(arg_dict) %}
  {%- set target = arg_dict['target_relation'] -%}
  {%- set source = arg_dict['temp_relation'] -%}
  {%- set states = ref('int_portfolio_states_to_encode') -%}
  {%- set columns = arg_dict['dest_columns'] | map(attribute='name') | join(', ') -%}
  {%- set report_reasons = "('" ~ portfolio_report_problems() | join("', '") ~ "')" -%}

  delete from {{ target }} as existing
  where
      (
          existing.reason not in {{ report_reasons }}
          and exists (
              select 1
              from {{ states }} as states
              where
                  states.portfolio_id = existing.portfolio_id
                  and states.as_of_date = existing.as_of_date
          )
      )
      or (
          existing.reason in {{ report_reasons }}
          and {{ portfolio_selection(portfolio_vars()) }}
          and not exists (
              select 1
              from {{ source }} as found
              where
                  found.reason = existing.reason
                  and found.source_fingerprint = existing.source_fingerprint
          )
      );

  insert into {{ target }} ({{ columns }})
  select {{ columns }}
  from {{ source }} as found
  where
      found.reason not in {{ report_reasons }}
      or not exists (
          select 1
          from {{ target }} as existing
          where
              existing.reason = found.reason
              and existing.source_fingerprint = found.source_fingerprint
      )
{% endmacro %}


{#- The reasons int_portfolio_reports gives a report that cannot stand for a state. -#}
{% macro portfolio_report_problems() %}
  {{ return(['invalid_portfolio_id', 'missing_as_of_date', 'missing_report_id', 'duplicate_report_id']) }}
{% endmacro %}
