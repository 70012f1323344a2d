{#-
  incremental_strategy='keyed_replace' for tables shared with other writers.

  dbt's stock strategies insert every column of the target (embedding_id included, which
  the platform fills from a sequence) and --full-refresh would drop the table. This one:
    1. deletes the target rows whose unique_key appears in this run's rows, and
    2. inserts this run's rows, naming only the model's own columns,
  in the materialization's single transaction, so a failure leaves the table as it was
  and rows with any other key (other entity types, model_ids, dates) are never touched.
  Into an ATTACHed PostgreSQL table the same replace is done by py_write_table, which
  streams a Python model's rows straight into the table (portfolio_embeddings/pg_keyed_copy.py):
  the batch it leaves here is empty and there is nothing left to do.
-#}
{#- A unique_key entry is a column or an expression on one column, e.g.
    "entity_scope->>'portfolio_id'" (each side is parenthesised). -#}
{% macro get_incremental_keyed_replace_sql(arg_dict) %}
  {%- set target = arg_dict['target_relation'] -%}
  {%- set source = arg_dict['temp_relation'] -%}
  {%- set unique_key = arg_dict['unique_key'] -%}
  {%- if unique_key is none or unique_key | length == 0 -%}
    {{ exceptions.raise_compiler_error("keyed_replace needs a unique_key (the natural key of the shared table)") }}
  {%- endif -%}
  {%- set keys = [unique_key] if unique_key is string else unique_key -%}
  {%- if catalog_type(target.database) == 'postgres' -%}
    {%- if model.language != 'python' -%}
      {{ exceptions.raise_compiler_error("keyed_replace into PostgreSQL is done by py_write_table: only Python models can use it on the postgres target") }}
    {%- endif -%}
  select 1 /* the rows were streamed into {{ target }} by py_write_table */
  {%- else -%}
  {%- set source_columns = adapter.get_columns_in_relation(source) -%}
  {%- set columns = source_columns | map(attribute='name') | list -%}
  {%- set column_list = columns | join(', ') -%}
  {%- set narrowing = keyed_replace_narrowing(source, source_columns, keys) -%}

  delete from {{ target }} as existing
  where
      {%- for predicate in narrowing %}
      {{ predicate }} and
      {%- endfor %}
      exists (
      select 1
      from {{ source }} as incoming
      where
          {%- for key in keys %}
          (incoming.{{ key }}) = (existing.{{ key }}){{ ' and' if not loop.last }}
          {%- endfor %}
  );

  insert into {{ target }} ({{ column_list }})
  select {{ column_list }}
  from {{ source }};

  drop table if exists {{ source }}
  {%- endif %}
{% endmacro %}


{#- Constant predicates for the delete: `existing.<key> in (<the batch's values>)` for
    each key that is a plain column with at most 100 distinct values in the batch
    (entity_type, model_id, as_of_date; not entity_id). They change nothing in what is
    deleted, the key equalities decide that, but they confine the delete's scan to the
    run's own slice of the shared table: DuckDB prunes its row groups by them (the
    PostgreSQL path, pg_keyed_copy, narrows its delete the same way). -#}
{% macro keyed_replace_narrowing(source, source_columns, keys) %}
  {%- set predicates = [] -%}
  {%- for column in source_columns if column.name in keys -%}
    {%- set distinct_values = run_query(
        "select distinct cast(" ~ column.name ~ " as varchar) from " ~ source
        ~ " where " ~ column.name ~ " is not null limit 101") -%}
    {%- if 0 < distinct_values.rows | length <= 100 -%}
      {%- set literals = [] -%}
      {%- for row in distinct_values.rows -%}
        {%- do literals.append("cast('" ~ row[0] | replace("'", "''") ~ "' as " ~ column.data_type ~ ")") -%}
      {%- endfor -%}
      {%- do predicates.append("existing." ~ column.name ~ " in (" ~ literals | join(", ") ~ ")") -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(predicates) }}
{% endmacro %}
