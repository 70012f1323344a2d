{#-
  materialized='spark_replace_states': the replace_states rule of
  portfolio_feature_rejects (replace_states.sql) on dbt-spark and dbt-databricks, which
  take no custom incremental strategy: the run's rows replace every row of the states
  the run re-encodes (int_portfolio_states_to_encode), also of those that now have none;
  every other state's rows stay. Never dropped, --full-refresh included.
    - Delta: a delete of those states, then an insert (two statements).
    - Parquet (the local `spark` target), which cannot delete: the kept rows and the
      run's go to a staging table, which then overwrites the table (INSERT OVERWRITE).
-#}
{% materialization spark_replace_states, adapter='spark', supported_languages=['sql'] %}

  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing = load_relation(this) -%}
  {%- set file_format = config.get('file_format', 'parquet') -%}
  {%- set states = ref('int_portfolio_states_to_encode') -%}
  {%- set staging = this.incorporate(path={'identifier': this.identifier ~ '__dbt_staging'}) -%}

  {{ run_hooks(pre_hooks) }}

  {%- if existing is none -%}
    {% call statement('main') -%}
      {{ create_table_as(False, target_relation, compiled_code) }}
    {%- endcall %}
  {%- else -%}
    {%- set columns = adapter.get_columns_in_relation(existing) | map(attribute='name') | join(', ') -%}
    {%- set other_states -%}
      not exists (
          select 1 from {{ states }} as states
          where states.portfolio_id = existing.portfolio_id and states.as_of_date = existing.as_of_date
      )
    {%- endset -%}
    {%- if file_format == 'delta' -%}
      {% call statement('delete_replaced') -%}
        delete from {{ target_relation }} as existing where not ({{ other_states }})
      {%- endcall %}
      {% call statement('main') -%}
        insert into {{ target_relation }} ({{ columns }})
        select {{ columns }} from ({{ compiled_code }}) as found
      {%- endcall %}
    {%- else -%}
      {% do run_query('drop table if exists ' ~ staging) %}
      {% call statement('stage') -%}
        create table {{ staging }} using parquet as
        select {{ columns }} from ({{ compiled_code }}) as found
        union all
        select {{ columns }} from {{ target_relation }} as existing where {{ other_states }}
      {%- endcall %}
      {% call statement('main') -%}
        insert overwrite table {{ target_relation }} select {{ columns }} from {{ staging }}
      {%- endcall %}
      {% do run_query('drop table if exists ' ~ staging) %}
    {%- endif -%}
  {%- endif -%}

  {{ run_hooks(post_hooks) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
