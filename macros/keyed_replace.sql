{#-
  incremental_strategy='keyed_replace' for tables shared with other writers.

  dbt's stock strategies insert every column of the target (embedding_id included, which
  the platform fills from a sequence) and --full-refresh would drop the table. This one:
    1. deletes the target rows whose unique_key appears in this run's rows, and
    2. inserts this run's rows, naming only the model's own columns,
  in the materialization's single transaction, so a failure leaves the table as it was
  and rows with any other key (other entity types, model_ids, dates) are never touched.
  On PostgreSQL (keyed_replace_postgres, below) concurrent runs serialise on an advisory
  lock and PostgreSQL itself runs the delete and insert from a staging table.
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

  {%- if catalog_type(target.database) == 'postgres' -%}
  {{ keyed_replace_postgres(target, source, keys, columns, narrowing) }}
  {%- else %}
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
    run's own slice of the shared table: DuckDB prunes its row groups by them, and
    PostgreSQL can use its index on the natural key (a delete that scanned every row of
    every writer measured 1.3 s per million rows, and grows with the table). -#}
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


{#- keyed_replace into an ATTACHed PostgreSQL table, all in the run's one PostgreSQL
    transaction:
      1. a transaction-level advisory lock serialises concurrent runs (released at
         commit or rollback; the attachment is READ COMMITTED, so the delete sees what
         a run we waited for has committed);
      2. the batch is copied into an UNLOGGED staging table created in this
         transaction, its JSON columns as text: DuckDB's postgres extension falls back
         to a text-format COPY for any table with a jsonb column, which at 1M rows is
         client-bound (40-45 s measured) where a binary COPY into the staging table
         takes 5 s;
      3. PostgreSQL itself deletes the run's keys and inserts the rows, casting the
         JSON back (15 s for 1M rows), then drops the staging table.
    Other sessions never see the staging table; a failure rolls all of it back, the
    staging table's creation included. -#}
{% macro keyed_replace_postgres(target, source, keys, columns, narrowing) %}
  {%- set database = target.database -%}
  {%- set shared = adapter.quote(target.schema) ~ '.' ~ adapter.quote(target.identifier) -%}
  {%- set staging_name = target.identifier ~ '__incoming' -%}
  {%- set staging = adapter.quote(target.schema) ~ '.' ~ adapter.quote(staging_name) -%}
  {%- set describe -%}
    select attname::text, format_type(atttypid, atttypmod) from pg_attribute
    where attrelid = '{{ shared }}'::regclass and attnum > 0 and not attisdropped
  {%- endset -%}
  {%- set described = run_query(
      "select * from postgres_query('" ~ database ~ "', '" ~ describe | replace("'", "''") ~ "')") -%}
  {%- set pg_types = {} -%}
  {%- for row in described.rows -%}
    {%- do pg_types.update({row[0]: row[1]}) -%}
  {%- endfor -%}
  {%- set staged_columns = [] -%}
  {%- set incoming_columns = [] -%}
  {%- for column in columns -%}
    {%- if pg_types.get(column) in ('json', 'jsonb') -%}
      {%- do staged_columns.append(column ~ '::text as ' ~ column) -%}
      {%- do incoming_columns.append(column ~ '::' ~ pg_types[column] ~ ' as ' ~ column) -%}
    {%- else -%}
      {%- do staged_columns.append(column) -%}
      {%- do incoming_columns.append(column) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set incoming = "(select " ~ incoming_columns | join(", ") ~ " from " ~ staging ~ ")" -%}
  {%- set column_list = columns | join(', ') -%}
  {%- set delete_sql -%}
    delete from {{ shared }} as existing
    using {{ incoming }} as incoming
    where
      {%- for predicate in narrowing %} {{ predicate }} and {%- endfor %}
      {%- for key in keys %} (incoming.{{ key }}) = (existing.{{ key }}){{ ' and' if not loop.last }}{%- endfor %}
  {%- endset -%}
  {%- set before_copy = [
      "select pg_advisory_xact_lock(hashtext('portfolio_embeddings:" ~ target.identifier ~ "'))",
      "create unlogged table " ~ staging ~ " as select " ~ staged_columns | join(", ")
        ~ " from " ~ shared ~ " with no data",
  ] -%}
  {%- set after_copy = [
      delete_sql,
      "insert into " ~ shared ~ " (" ~ column_list ~ ") select " ~ column_list ~ " from " ~ incoming ~ " as incoming",
      "drop table " ~ staging,
  ] -%}
  {%- for statement in before_copy %}
  call postgres_execute('{{ database }}', '{{ statement | replace("'", "''") }}');
  {%- endfor %}
  call pg_clear_cache();

  insert into {{ database }}.{{ adapter.quote(target.schema) }}.{{ adapter.quote(staging_name) }} ({{ column_list }})
  select {{ column_list }}
  from {{ source }};
  {%- for statement in after_copy %}
  call postgres_execute('{{ database }}', '{{ statement | replace("'", "''") }}');
  {%- endfor %}
  call pg_clear_cache()
{% endmacro %}
