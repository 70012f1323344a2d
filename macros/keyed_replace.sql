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
  {%- set columns = adapter.get_columns_in_relation(source) | map(attribute='name') | list -%}
  {%- set column_list = columns | join(', ') -%}

  {%- if catalog_type(target.database) == 'postgres' %}
  -- Two runs writing the same table at once are serialised by a transaction-level
  -- advisory lock, released at commit or rollback (the attachment is READ COMMITTED,
  -- so the delete below sees what a run we waited for has committed).
  call postgres_execute('{{ target.database }}',
      'select pg_advisory_xact_lock(hashtext(''portfolio_embeddings:{{ target.identifier }}''))');
  {%- endif %}

  delete from {{ target }} as existing
  where exists (
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
{% endmacro %}
