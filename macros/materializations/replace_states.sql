{#-
  incremental_strategy='replace_states' for a table that holds a record per portfolio
  state (portfolio_feature_rejects): the run's rows replace every row of the states
  the run re-encodes (int_portfolio_states_to_encode), also of those that now have
  none; the rows of every other state stay as they are. After dbt-duckdb's
  delete+insert, in the materialization's one transaction.
-#}
{% macro get_incremental_replace_states_sql(arg_dict) %}
  {%- set target = arg_dict['target_relation'] -%}
  {%- set source = arg_dict['temp_relation'] -%}
  {%- set states = ref('int_portfolio_states_to_encode') -%}
  {%- set columns = arg_dict['dest_columns'] | map(attribute='name') | join(', ') -%}

  delete from {{ target }} as existing
  where exists (
      select 1
      from {{ states }} as states
      where
          states.portfolio_id = existing.portfolio_id
          and states.as_of_date = existing.as_of_date
  );

  insert into {{ target }} ({{ columns }})
  select {{ columns }}
  from {{ source }}
{% endmacro %}
