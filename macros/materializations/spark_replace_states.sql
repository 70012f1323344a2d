{#-
  materialized='spark_replace_states': the replace_states rule of
  portfolio_feature_rejects (replace_states.sql) on dbt-spark and dbt-databricks, which
  take no custom incremental strategy:
    - state rejects: the run's rows replace every row of the states the run re-encodes
      (int_portfolio_states_to_encode), also of those that now have none; every other
      state's rows stay;
    - report rejects (portfolio_report_problems()): within the run's dates and
      portfolio_ids, a stored one stays untouched while the run finds it again (same
      reason, same source_fingerprint), goes when the run does not; only new ones are
      added.
  The run's rows are computed once into `<table>__dbt_found`. Never dropped,
  --full-refresh included. A column the model has and the table lacks is added first
  (on_schema_change='append_new_columns', as on the other targets).
    - Delta: a delete, then an insert (two statements).
    - Parquet (the local `spark` target), which cannot delete: the kept rows and the
      new ones go to a staging table, which then overwrites the table (INSERT OVERWRITE).
-#}
{% materialization spark_replace_states, adapter='spark', supported_languages=['sql'] %}

  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing = load_relation(this) -%}
  {%- set file_format = config.get('file_format', 'parquet') -%}
  {%- set states = ref('int_portfolio_states_to_encode') -%}
  {%- set staging = this.incorporate(path={'identifier': this.identifier ~ '__dbt_staging'}) -%}
  {%- set found = this.incorporate(path={'identifier': this.identifier ~ '__dbt_found'}) -%}
  {%- set report_reasons = "('" ~ portfolio_report_problems() | join("', '") ~ "')" -%}

  {{ run_hooks(pre_hooks) }}

  {%- if existing is none -%}
    {% call statement('main') -%}
      {{ create_table_as(False, target_relation, compiled_code) }}
    {%- endcall %}
  {%- else -%}
    {% do run_query('drop table if exists ' ~ found) %}
    {% call statement('found') -%}
      create table {{ found }} using {{ file_format }} as {{ compiled_code }}
    {%- endcall %}
    {%- set existing_names = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
    {%- set missing = [] -%}
    {%- for column in adapter.get_columns_in_relation(found) -%}
      {%- if column.name | lower not in existing_names -%}
        {%- do missing.append(column.name ~ ' ' ~ column.dtype) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
      {% do run_query('alter table ' ~ target_relation ~ ' add columns (' ~ missing | join(', ') ~ ')') %}
    {%- endif -%}
    {#- the table's order (an added column comes last): INSERT OVERWRITE is by position -#}
    {%- set columns = adapter.get_columns_in_relation(target_relation) | map(attribute='name') | join(', ') -%}
    {%- set kept -%}
      (
          existing.reason not in {{ report_reasons }}
          and not exists (
              select 1 from {{ states }} as states
              where states.portfolio_id = existing.portfolio_id and states.as_of_date = existing.as_of_date
          )
      )
      or (
          existing.reason in {{ report_reasons }}
          and (
              not ({{ portfolio_selection(portfolio_vars()) }})
              or exists (
                  select 1 from {{ found }} as found
                  where found.reason = existing.reason and found.source_fingerprint = existing.source_fingerprint
              )
          )
      )
    {%- endset -%}
    {%- set new_rows -%}
      select {{ columns }} from {{ found }} as found
      where
          found.reason not in {{ report_reasons }}
          or not exists (
              select 1 from {{ target_relation }} as existing
              where existing.reason = found.reason and existing.source_fingerprint = found.source_fingerprint
          )
    {%- endset -%}
    {%- if file_format == 'delta' -%}
      {#- the new rows first: they are decided against the table as it was -#}
      {% do run_query('drop table if exists ' ~ staging) %}
      {% call statement('stage') -%}
        create table {{ staging }} using {{ file_format }} as {{ new_rows }}
      {%- endcall %}
      {% call statement('delete_replaced') -%}
        delete from {{ target_relation }} as existing where not ({{ kept }})
      {%- endcall %}
      {% call statement('main') -%}
        insert into {{ target_relation }} ({{ columns }})
        select {{ columns }} from {{ staging }}
      {%- endcall %}
    {%- else -%}
      {% do run_query('drop table if exists ' ~ staging) %}
      {% call statement('stage') -%}
        create table {{ staging }} using parquet as
        {{ new_rows }}
        union all
        select {{ columns }} from {{ target_relation }} as existing where {{ kept }}
      {%- endcall %}
      {% call statement('main') -%}
        insert overwrite table {{ target_relation }} select {{ columns }} from {{ staging }}
      {%- endcall %}
    {%- endif -%}
    {% do run_query('drop table if exists ' ~ staging) %}
    {% do run_query('drop table if exists ' ~ found) %}
  {%- endif -%}

  {{ run_hooks(post_hooks) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
