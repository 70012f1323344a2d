{#-
  on-run-start: the source table exists and the columns the pipeline reads have types
  it can use, before any model runs. A missing table or column, or an unusable type
  (an as_of_date stored as a timestamp would give two states for one day; a created_at
  stored as text would rank 9:00 above 10:00), stops the run with the column, the type
  found and the type expected. Nothing is written.
-#}
{% macro check_portfolio_source() %}
  {#- as a package (integration_tests/), the root project's models read no reports -#}
  {%- if execute and project_name == 'portfolio_embeddings' -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', 'portfolio_risk')
                   | selectattr('name', 'equalto', 'portfolio_risk_reports') | first -%}
    {%- set relation = adapter.get_relation(node.database, node.schema, node.identifier) -%}
    {%- if relation is none -%}
      {{ exceptions.raise_compiler_error(
          "Source table " ~ node.schema ~ "." ~ node.identifier ~ " not found in database '"
          ~ node.database ~ "' (target " ~ target.name ~ _portfolio_source_location(node.database)
          ~ "). Point the target at the file or database that holds the reports, or run"
          ~ " `make demo-data` for the demo.") }}
    {%- endif -%}
    {%- set found = {} -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
      {%- do found.update({column.name | lower: column.dtype | upper}) -%}
    {%- endfor -%}
    {%- for name, kind in portfolio_source_columns().items() -%}
      {%- if name not in found -%}
        {{ exceptions.raise_compiler_error(
            "Source " ~ relation ~ " has no column " ~ name ~ " (expected "
            ~ _portfolio_kind_text(kind) ~ ").") }}
      {%- elif not portfolio_type_is(found[name], kind) -%}
        {{ exceptions.raise_compiler_error(
            "Source column " ~ relation ~ "." ~ name ~ " has type " ~ found[name]
            ~ "; expected " ~ _portfolio_kind_text(kind) ~ ".") }}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  select 1
{% endmacro %}


{#- The columns the pipeline reads and the kind of type each needs. -#}
{% macro portfolio_source_columns() %}
  {{ return({
      'report_id': 'text', 'portfolio_id': 'text', 'as_of_date': 'date',
      'created_at': 'timestamp', 'risk_metrics': 'json', 'exposures_by_sector': 'json',
      'exposures_by_factor': 'json'}) }}
{% endmacro %}


{#- Whether a column's type (as the adapter names it, upper case) is of `kind`. -#}
{% macro portfolio_type_is(data_type, kind) %}
  {{ return(adapter.dispatch('portfolio_type_is', 'portfolio_embeddings')(data_type, kind)) }}
{% endmacro %}

{% macro default__portfolio_type_is(data_type, kind) %}
  {%- set text_types = ['VARCHAR', 'TEXT', 'STRING', 'CHAR', 'CHARACTER', 'CHARACTER VARYING'] -%}
  {%- set base = data_type.split('(')[0].split('<')[0] | trim -%}
  {%- if kind == 'text' -%}
    {{ return(base in text_types) }}
  {%- elif kind == 'date' -%}
    {{ return(base == 'DATE') }}
  {%- elif kind == 'timestamp' -%}
    {{ return(base.startswith('TIMESTAMP') or base == 'DATETIME') }}
  {%- elif kind == 'json' -%}
    {{ return(base in text_types or base in ['JSON', 'JSONB', 'MAP', 'STRUCT']) }}
  {%- endif -%}
  {{ return(false) }}
{% endmacro %}

{#- Spark names: string, date, timestamp / timestamp_ntz, map<...>, struct<...> (the
    default's rules, upper-cased), and a VARIANT holding the JSON itself. -#}
{% macro spark__portfolio_type_is(data_type, kind) %}
  {%- if kind == 'json' and data_type | upper == 'VARIANT' -%}
    {{ return(true) }}
  {%- endif -%}
  {{ return(portfolio_embeddings.default__portfolio_type_is(data_type | upper, kind)) }}
{% endmacro %}


{% macro _portfolio_kind_text(kind) %}
  {{ return({'text': 'text (VARCHAR)', 'date': 'DATE', 'timestamp': 'a TIMESTAMP',
             'json': 'JSON, text holding JSON, a MAP or a STRUCT'}[kind]) }}
{% endmacro %}


{#- ", file <path>" when the source is in the DuckDB file of the target, so a typo in the path is visible. -#}
{% macro _portfolio_source_location(database) %}
  {%- if target.type == 'duckdb' and target.path and database == target.database -%}
    {{ return(", file " ~ target.path) }}
  {%- endif -%}
  {{ return("") }}
{% endmacro %}
