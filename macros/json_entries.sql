{#-
  Engine-specific JSON SQL, behind adapter.dispatch so that the models stay portable.
  Every target of this project runs on DuckDB (the postgres target ATTACHes PostgreSQL
  to DuckDB), so duckdb__ is the one implementation today.
-#}

{#- The JSON type of a JSON expression: OBJECT, ARRAY, VARCHAR, BOOLEAN, BIGINT,
    UBIGINT, DOUBLE, NULL (SQL null for a JSON null inside an object). -#}
{% macro json_type_of(expression) %}
  {{ return(adapter.dispatch('json_type_of', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro duckdb__json_type_of(expression) -%}
  json_type({{ expression }})
{%- endmacro %}


{#- A list of {key, value} structs, one per member of a JSON object (a JSON document or
    its text), the values as compact JSON text, SQL null for a JSON null; null when the
    document is not an object. Measured on DuckDB 1.5.5 over 1M reports: a transform to
    MAP(VARCHAR, JSON) is about 3x faster than json_each, and parsing the text directly
    saves the validating parse of a cast to JSON. -#}
{% macro json_object_entries(expression) %}
  {{ return(adapter.dispatch('json_object_entries', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro duckdb__json_object_entries(expression) -%}
  map_entries(json_transform({{ expression }}, '"MAP(VARCHAR, JSON)"'))
{%- endmacro %}


{#- The JSON type of a member value from json_object_entries: OBJECT, ARRAY, VARCHAR,
    BOOLEAN or NUMBER; null for a JSON null. The value is compact JSON text, so its
    first character tells the type without parsing it again (26M values a run). -#}
{% macro json_member_type(value) %}
  {{ return(adapter.dispatch('json_member_type', 'portfolio_embeddings')(value)) }}
{% endmacro %}

{% macro duckdb__json_member_type(value) -%}
  case left(cast({{ value }} as varchar), 1)
      when '{' then 'OBJECT'
      when '[' then 'ARRAY'
      when '"' then 'VARCHAR'
      when 't' then 'BOOLEAN'
      when 'f' then 'BOOLEAN'
      else case when {{ value }} is not null then 'NUMBER' end
  end
{%- endmacro %}


{#- A member value from json_object_entries as a double: a number's text converted
    (correctly rounded, as a JSON parser would), true / false as 1.0 / 0.0, null for
    anything else (a quoted string never converts). -#}
{% macro json_member_to_double(value) %}
  {{ return(adapter.dispatch('json_member_to_double', 'portfolio_embeddings')(value)) }}
{% endmacro %}

{% macro duckdb__json_member_to_double(value) -%}
  case cast({{ value }} as varchar)
      when 'true' then 1.0
      when 'false' then 0.0
      else try_cast(cast({{ value }} as varchar) as double)
  end
{%- endmacro %}
