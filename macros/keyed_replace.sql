{#-
  incremental_strategy='keyed_replace' for tables shared with other writers.

  dbt's stock strategies insert every column of the target (embedding_id included, which
  the platform fills from a sequence) and --full-refresh would drop the table. This one:
    1. deletes the target rows whose unique_key appears in this run's rows, and
    2. inserts this run's rows, naming only the model's own columns,
  in the materialization's single transaction, so a failure leaves the table as it was
  and rows with any other key (other entity types, model_ids, dates) are never touched.
  On PostgreSQL the write first takes an advisory lock, so concurrent runs serialise.
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
  {%- set source_columns = adapter.get_columns_in_relation(source) -%}
  {%- set columns = source_columns | map(attribute='name') | list -%}
  {%- set column_list = columns | join(', ') -%}
  {%- set narrowing = keyed_replace_narrowing(source, source_columns, keys) -%}

  {%- if catalog_type(target.database) == 'postgres' %}
  -- Two runs writing the same table at once are serialised by a transaction-level
  -- advisory lock, released at commit or rollback (the attachment is READ COMMITTED,
  -- so the delete below sees what a run we waited for has committed).
  call postgres_execute('{{ target.database }}',
      'select pg_advisory_xact_lock(hashtext(''portfolio_embeddings:{{ target.identifier }}''))');
  {%- endif %}

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
  from {{ source }}
  {%- if catalog_type(target.database) != 'postgres' %};

  -- on PostgreSQL the batch is dropped after the commit (drop_python_model_batches)
  drop table if exists {{ source }}
  {%- endif %}
{% endmacro %}


{#- Constant predicates for the delete: `existing.<key> in (<the batch's values>)` for
    each key that is a plain column with at most 100 distinct values in the batch
    (entity_type, model_id, as_of_date; not entity_id). They change nothing in what is
    deleted, the EXISTS decides that, but DuckDB pushes constants into the query it
    sends to PostgreSQL, so a run reads only its own slice of the shared table instead
    of every row of every writer (measured: 1.3 s per million rows, and growing with
    the table, against 0.04 s). -#}
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
