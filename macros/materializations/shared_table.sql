{#-
  materialized='shared_table': a Python model writes its rows into a table it shares
  with other writers (the platform's numeric_window_embeddings, joint_embeddings).

    1. The table is the platform's, not dbt's: when absent it is created with the
       platform's shape (shared_table_ddl), never from the model's columns, and it is
       never dropped or rebuilt, --full-refresh included.
    2. The model's rows replace exactly the rows with their unique_key, naming only the
       model's columns, in one transaction per engine
       (portfolio_embeddings.shared_table.replace_keys: DuckDB SQL, or a streamed binary
       COPY into an ATTACHed PostgreSQL). Rows with other keys are never touched. With
       config tombstone_column, a row that has null there only deletes its key.
    3. With config vector_from (a table of the same database and schema, and how its
       columns match the rows'), the rows carry no vector: each takes its vector from
       its matching row there, inside the target's database, and a row without one
       only deletes its key (tombstone_column does not apply).

  Laid out after dbt-duckdb's table and incremental materializations.
-#}
{% materialization shared_table, adapter='duckdb', supported_languages=['python'] %}

  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set unique_key = config.require('unique_key') -%}
  {%- set keys = [unique_key] if unique_key is string else unique_key -%}
  {%- set engine = 'postgres' if catalog_type(target_relation.database) == 'postgres' else 'duckdb' -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {% do create_shared_table_if_absent(target_relation, engine) %}

  {% call statement('main', language='python') -%}
{{ compiled_code }}
{{ replace_keys_python(target_relation, keys, engine) }}
  {%- endcall %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}


{#- The Python that ends the model's code in shared_table and keyed_table: its rows
    written by key (portfolio_embeddings.shared_table.replace_keys). Text only: dbt lets
    only the materialization itself submit the Python statement. -#}
{% macro replace_keys_python(target_relation, keys, engine) %}
{%- set vector_from = config.get('meta', {}).get('vector_from') %}


def materialize(rows, con):
    from portfolio_embeddings.shared_table import replace_keys

    replace_keys(
        con,
        rows,
        engine={{ engine | tojson }},
        database={{ target_relation.database | tojson }},
        schema={{ target_relation.schema | tojson }},
        table={{ target_relation.identifier | tojson }},
        keys={{ keys | tojson }},
        tombstone_column={{ config.get('meta', {}).get('tombstone_column') | tojson }},
        vector_from={{ vector_from | tojson if vector_from else 'None' }},
    )
{%- endmacro %}


{% macro create_shared_table_if_absent(relation, engine) %}
  {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
    {%- if engine == 'postgres' -%}
      {%- set ddl = postgres_shared_table_ddl(relation) -%}
      {%- do run_query("call postgres_execute('" ~ relation.database ~ "', '" ~ ddl | replace("'", "''") ~ "')") -%}
    {%- else -%}
      {%- do run_query(duckdb_shared_table_ddl(relation)) -%}
    {%- endif -%}
    {%- do adapter.commit() -%}
    {%- do adapter.cache_added(relation) -%}
    {{ log("Created the shared table " ~ relation ~ " with the platform's shape", info=true) }}
  {%- endif -%}
{% endmacro %}


{#- 'postgres' for an ATTACHed PostgreSQL database, 'duckdb' for a DuckDB file. -#}
{% macro catalog_type(database) %}
  {%- set result = run_query("select type from duckdb_databases() where database_name = '" ~ database ~ "'") -%}
  {{ return(result.columns[0].values()[0] if result.rows | length > 0 else none) }}
{% endmacro %}
