{#-
  Engine-specific JSON SQL, behind adapter.dispatch so that the models stay portable.
  Every target runs on DuckDB today (the postgres target ATTACHes PostgreSQL to
  DuckDB): duckdb__ is the tuned implementation (docs/performance.md); default__ says
  the same in plainer SQL for an engine without its own (a new engine adds its own).
-#}

{#- The JSON type of a JSON expression or JSON text: OBJECT, ARRAY, VARCHAR, BOOLEAN,
    BIGINT, UBIGINT, DOUBLE, NULL; SQL null for text that is not JSON. -#}
{% macro json_type_of(expression) %}
  {{ return(adapter.dispatch('json_type_of', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro default__json_type_of(expression) -%}
  case when json_valid({{ expression }}) then json_type({{ expression }}) end
{%- endmacro %}

{% macro duckdb__json_type_of(expression) -%}
  json_type(try_cast({{ expression }} as json))
{%- endmacro %}


{#- A list of {key, value} structs, one per member of a JSON object (a JSON document or
    its text), the values as compact JSON text, SQL null for a JSON null; null when the
    document is not an object. DuckDB: one transform of the text to a MAP, the fastest
    unnest measured (docs/performance.md). -#}
{% macro json_object_entries(expression) %}
  {{ return(adapter.dispatch('json_object_entries', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro default__json_object_entries(expression) -%}
  case when json_type(cast({{ expression }} as json)) = 'OBJECT' then
      map_entries(cast(cast({{ expression }} as json) as map(varchar, json)))
  end
{%- endmacro %}

{% macro duckdb__json_object_entries(expression) -%}
  map_entries(json_transform({{ expression }}, '"MAP(VARCHAR, JSON)"'))
{%- endmacro %}


{#- The JSON type of a member value from json_object_entries: OBJECT, ARRAY, VARCHAR,
    BOOLEAN or NUMBER; null for a JSON null. The value is compact JSON text, so its
    first character tells the type without parsing it again. -#}
{% macro json_member_type(value) %}
  {{ return(adapter.dispatch('json_member_type', 'portfolio_embeddings')(value)) }}
{% endmacro %}

{% macro default__json_member_type(value) -%}
  case json_type({{ value }})
      when 'OBJECT' then 'OBJECT'
      when 'ARRAY' then 'ARRAY'
      when 'VARCHAR' then 'VARCHAR'
      when 'BOOLEAN' then 'BOOLEAN'
      when 'NULL' then null
      else case when {{ value }} is not null then 'NUMBER' end
  end
{%- endmacro %}

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

{% macro default__json_member_to_double(value) -%}
  case
      when cast({{ value }} as varchar) = 'true' then 1.0
      when cast({{ value }} as varchar) = 'false' then 0.0
      when left(cast({{ value }} as varchar), 1) = '"' then null
      else try_cast(cast({{ value }} as varchar) as double)
  end
{%- endmacro %}

{% macro duckdb__json_member_to_double(value) -%}
  case cast({{ value }} as varchar)
      when 'true' then 1.0
      when 'false' then 0.0
      else try_cast(cast({{ value }} as varchar) as double)
  end
{%- endmacro %}


{#- The JSON document itself when it is valid JSON (a JSON value, JSON text, or a map /
    struct), else null: malformed text must not stop the parse of the others. -#}
{% macro json_or_null(expression) %}
  {{ return(adapter.dispatch('json_or_null', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro default__json_or_null(expression) -%}
  case when json_valid({{ expression }}) then {{ expression }} end
{%- endmacro %}


{#- The text of a document that is not valid JSON, cut to 200 characters for a person
    to read in the rejects; null for valid JSON and for null. -#}
{% macro malformed_json_text(expression) %}
  {{ return(adapter.dispatch('malformed_json_text', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro default__malformed_json_text(expression) -%}
  case when not json_valid({{ expression }}) then left(cast({{ expression }} as varchar), 200) end
{%- endmacro %}


{#- Per member of a json_object_entries list, whether its key comes again later in the
    list (the last occurrence counts, as in PostgreSQL's jsonb); null when no key
    repeats, the common case, decided by one pass over the keys' hashes (a collision
    only costs the exact check). -#}
{% macro shadowed_entries(entries) %}
  {{ return(adapter.dispatch('shadowed_entries', 'portfolio_embeddings')(entries)) }}
{% endmacro %}

{% macro default__shadowed_entries(entries) -%}
  case
      when len(list_distinct(list_transform({{ entries }}, entry -> hash(entry.key)))) <> len({{ entries }})
          then list_transform(
              generate_series(1, len({{ entries }})),
              i -> list_position(
                  list_reverse(list_transform({{ entries }}, entry -> entry.key)),
                  {{ entries }}[i].key
              ) <> len({{ entries }}) - i + 1
          )
  end
{%- endmacro %}
