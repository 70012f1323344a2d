{#-
  materialized='keyed_table': a Python model that recomputes groups of rows of a table
  of this project's own (the reference distances, drift, dispersion) and replaces
  exactly those groups.

    1. When absent, the table is created from the model's YAML columns and their
       data_type (DuckDB types; on an ATTACHed PostgreSQL, DuckDB maps them). It is
       never dropped or rebuilt, --full-refresh included: the var rebuild recomputes.
    2. Each unique_key value among the model's rows is a group: the rows stored with it
       are replaced by the model's rows with it, in one transaction
       (portfolio_embeddings.shared_table.replace_keys, the writer of the shared tables).
       A row whose meta tombstone_column is null only empties its group.
-#}
{% materialization keyed_table, adapter='duckdb', supported_languages=['python'] %}

  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set unique_key = config.require('unique_key') -%}
  {%- set keys = [unique_key] if unique_key is string else unique_key -%}
  {%- set engine = 'postgres' if catalog_type(target_relation.database) == 'postgres' else 'duckdb' -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {% do create_keyed_table_if_absent(target_relation) %}

  {% call statement('main', language='python') -%}
{{ compiled_code }}
{{ replace_keys_python(target_relation, keys, engine) }}
  {%- endcall %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}


{% macro create_keyed_table_if_absent(relation) %}
  {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
    {%- set columns = [] -%}
    {%- for column in model.columns.values() -%}
      {%- if not column.data_type -%}
        {%- do exceptions.raise_compiler_error("keyed_table: column " ~ column.name ~ " of " ~ model.name ~ " has no data_type in its YAML") -%}
      {%- endif -%}
      {%- do columns.append(adapter.quote(column.name) ~ ' ' ~ column.data_type) -%}
    {%- endfor -%}
    {%- do run_query('create table if not exists ' ~ relation ~ ' (' ~ columns | join(', ') ~ ')') -%}
    {%- do adapter.commit() -%}
    {%- do adapter.cache_added(relation) -%}
  {%- endif -%}
{% endmacro %}
