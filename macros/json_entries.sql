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


{#- A list of {key, value} structs, one per member of a JSON object (null when the
    document is not an object). Measured on DuckDB 1.5.5: a cast to MAP(VARCHAR, JSON)
    and unnest(map_entries(...)) is about 3x faster than json_each over 1M reports. -#}
{% macro json_object_entries(expression) %}
  {{ return(adapter.dispatch('json_object_entries', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro duckdb__json_object_entries(expression) -%}
  map_entries(try_cast({{ expression }} as map(varchar, json)))
{%- endmacro %}


{#- A JSON member as a double: numbers as they are, booleans as 1.0 / 0.0. Strings
    that look like numbers also convert, so callers must check the JSON type too. -#}
{% macro json_to_double(expression) %}
  {{ return(adapter.dispatch('json_to_double', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro duckdb__json_to_double(expression) -%}
  try_cast({{ expression }} as double)
{%- endmacro %}
