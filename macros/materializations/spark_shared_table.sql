{#-
  materialized='shared_table' on dbt-spark and dbt-databricks: the rules of the DuckDB
  materialization (shared_table.sql), with the write in
  portfolio_embeddings.spark_table.replace_keys: the table is created with the
  platform's columns when absent and never dropped (--full-refresh included); the
  model's rows replace exactly the rows with their unique_key (Delta: one MERGE;
  Parquet: a rewrite). The code is submitted as any dbt Python model is: a Databricks
  job, or on the local `spark` target the sparklocal adapter's local_session
  (adapters/dbt-sparklocal). adapter='spark' covers sparklocal (its parent adapter).
-#}
{% materialization shared_table, adapter='spark', supported_languages=['python'] %}

  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set unique_key = config.require('unique_key') -%}
  {%- set keys = [] -%}
  {%- for key in ([unique_key] if unique_key is string else unique_key) -%}
    {%- do keys.append(portfolio_embeddings.json_path_sql(key) | trim) -%}
  {%- endfor -%}

  {{ run_hooks(pre_hooks) }}

  {% call statement('main', language='python') -%}
{{ compiled_code }}


# --- shared_table on Spark (macros/materializations/spark_shared_table.sql) --- #
from portfolio_embeddings.spark_table import replace_keys

dbt = dbtObj(spark.table)
replace_keys(
    spark,
    model(dbt, spark),
    table={{ target_relation | string | tojson }},
    keys={{ keys | tojson }},
    tombstone_column={{ config.get('meta', {}).get('tombstone_column') | tojson }},
    file_format={{ config.get('file_format', 'delta') | tojson }},
)
  {%- endcall %}

  {% do adapter.cache_added(target_relation) %}
  {{ run_hooks(post_hooks) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}
