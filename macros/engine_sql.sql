{#-
  The few SQL constructs the models need that DuckDB and Spark spell differently,
  behind adapter.dispatch: default__ is DuckDB's spelling (the embedded and postgres
  targets), spark__ serves dbt-spark and dbt-databricks (docs/spark.md).
-#}

{#- The SQL type for text in a cast. -#}
{% macro text_type() %}
  {{ return(adapter.dispatch('text_type', 'portfolio_embeddings')()) }}
{% endmacro %}

{% macro default__text_type() %}{{ return('varchar') }}{% endmacro %}

{% macro spark__text_type() %}{{ return('string') }}{% endmacro %}


{#- A type name of a typed empty relation (existing_output_or_empty) for this engine. -#}
{% macro engine_type(data_type) %}
  {{ return(adapter.dispatch('engine_type', 'portfolio_embeddings')(data_type)) }}
{% endmacro %}

{% macro default__engine_type(data_type) %}{{ return(data_type) }}{% endmacro %}

{% macro spark__engine_type(data_type) %}
  {{ return({'varchar': 'string', 'json': 'string', 'blob': 'binary'}.get(data_type | lower, data_type)) }}
{% endmacro %}


{#- The value of the row with the greatest (order_by...), as an aggregate. -#}
{% macro arg_max_by(value, order_by) %}
  {{ return(adapter.dispatch('arg_max_by', 'portfolio_embeddings')(value, order_by)) }}
{% endmacro %}

{% macro default__arg_max_by(value, order_by) -%}
  arg_max({{ value }}, ({{ order_by | join(', ') }}))
{%- endmacro %}

{% macro spark__arg_max_by(value, order_by) -%}
  max_by({{ value }}, struct({{ order_by | join(', ') }}))
{%- endmacro %}


{#- Several columns unnested in step (a select-list generator): columns maps each output
    name to its list of expressions, all lists of one length. -#}
{% macro unnest_in_step(columns) %}
  {{ return(adapter.dispatch('unnest_in_step', 'portfolio_embeddings')(columns)) }}
{% endmacro %}

{% macro default__unnest_in_step(columns) -%}
  {%- for name, expressions in columns.items() -%}
    unnest([{{ expressions | join(', ') }}]) as {{ name }}{{ ',' if not loop.last }}
  {% endfor -%}
{%- endmacro %}

{% macro spark__unnest_in_step(columns) -%}
  {%- set names = columns.keys() | list -%}
  {%- set rows = [] -%}
  {%- for i in range(columns[names[0]] | length) -%}
    {%- set fields = [] -%}
    {%- for name in names -%}
      {%- do fields.append("'" ~ name ~ "', " ~ columns[name][i]) -%}
    {%- endfor -%}
    {%- do rows.append('named_struct(' ~ fields | join(', ') ~ ')') -%}
  {%- endfor -%}
  inline(array({{ rows | join(', ') }}))
{%- endmacro %}


{#- A list of structs (fields: {name: expression}) as an aggregate. -#}
{% macro list_of_structs(fields) %}
  {{ return(adapter.dispatch('list_of_structs', 'portfolio_embeddings')(fields)) }}
{% endmacro %}

{% macro default__list_of_structs(fields) -%}
  list({
  {%- for name, expression in fields.items() %}
      '{{ name }}': {{ expression }}{{ ',' if not loop.last }}
  {%- endfor %}
  })
{%- endmacro %}

{% macro spark__list_of_structs(fields) -%}
  collect_list(named_struct(
  {%- for name, expression in fields.items() %}
      '{{ name }}', {{ expression }}{{ ',' if not loop.last }}
  {%- endfor %}
  ))
{%- endmacro %}


{#- A FROM item: one row per element of the list column, as alias (column). -#}
{% macro unnest_list(list_column, alias, column) %}
  {{ return(adapter.dispatch('unnest_list', 'portfolio_embeddings')(list_column, alias, column)) }}
{% endmacro %}

{% macro default__unnest_list(list_column, alias, column) -%}
  unnest({{ list_column }}) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__unnest_list(list_column, alias, column) -%}
  lateral explode({{ list_column }}) as {{ alias }} ({{ column }})
{%- endmacro %}


{#- Whether a double is neither NaN nor infinite. -#}
{% macro is_finite_double(expression) %}
  {{ return(adapter.dispatch('is_finite_double', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro default__is_finite_double(expression) -%}
  isfinite({{ expression }})
{%- endmacro %}

{% macro spark__is_finite_double(expression) -%}
  (not isnan({{ expression }}) and abs({{ expression }}) < double('Infinity'))
{%- endmacro %}


{#- Whether text matches a regular expression (anywhere in it). -#}
{% macro regex_matches(text, pattern) %}
  {{ return(adapter.dispatch('regex_matches', 'portfolio_embeddings')(text, pattern)) }}
{% endmacro %}

{% macro default__regex_matches(text, pattern) -%}
  regexp_matches({{ text }}, {{ pattern }})
{%- endmacro %}

{% macro spark__regex_matches(text, pattern) -%}
  ({{ text }} rlike {{ pattern }})
{%- endmacro %}


{#- A column type as the column_types test names it (DuckDB's names). -#}
{% macro canonical_type_name(data_type) %}
  {{ return(adapter.dispatch('canonical_type_name', 'portfolio_embeddings')(data_type)) }}
{% endmacro %}

{% macro default__canonical_type_name(data_type) %}{{ return(data_type | upper) }}{% endmacro %}

{#- Spark's timestamp is an instant shown in the session time zone: timestamptz. -#}
{% macro spark__canonical_type_name(data_type) %}
  {{ return({'STRING': 'VARCHAR', 'BINARY': 'BLOB', 'TIMESTAMP': 'TIMESTAMP WITH TIME ZONE'}.get(data_type | upper, data_type | upper)) }}
{% endmacro %}


{#- Whether text is empty or only whitespace (space, tab, newline, carriage return,
    vertical tab, form feed). -#}
{% macro is_blank_text(text) %}
  {{ return(adapter.dispatch('is_blank_text', 'portfolio_embeddings')(text)) }}
{% endmacro %}

{% macro default__is_blank_text(text) -%}
  trim({{ text }}, e' \t\n\r\x0b\x0c') = ''
{%- endmacro %}

{% macro spark__is_blank_text(text) -%}
  btrim({{ text }}, concat(' ', chr(9), chr(10), chr(13), chr(11), chr(12))) = ''
{%- endmacro %}


{#- Text as a JSON string literal (quoted, escaped). Spark's escapes of control
    characters may be spelled differently from DuckDB's (docs/spark.md). -#}
{% macro json_string_literal(text) %}
  {{ return(adapter.dispatch('json_string_literal', 'portfolio_embeddings')(text)) }}
{% endmacro %}

{% macro default__json_string_literal(text) -%}
  cast(to_json({{ text }}) as varchar)
{%- endmacro %}

{% macro spark__json_string_literal(text) -%}
  regexp_extract(to_json(named_struct('v', {{ text }})), '^[{]"v":(.*)[}]$', 1)
{%- endmacro %}
