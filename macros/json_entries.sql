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


{#- A JSON object (a document or its text) as a MAP(VARCHAR, JSON) in one parse, or null
    for what is not an object and for text that is not JSON (try() turns DuckDB's parse
    error into null row by row). It may also be null for an object with a key given
    twice, so typed_feature_members reads the null ones again one by one. -#}
{% macro json_object_or_null(expression) %}
  {{ return(adapter.dispatch('json_object_or_null', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro default__json_object_or_null(expression) -%}
  try(json_transform({{ expression }}, '"MAP(VARCHAR, JSON)"'))
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


{#- Spark: try_parse_json is null for text that is not JSON. A document with a key
    given twice parses when spark.sql.variant.allowDuplicateKeys is on (the `spark`
    profile sets it; spark__typed_feature_members then finds the earlier occurrences);
    with it off, such a document is null here: one malformed_json reject
    (docs/spark.md). A JSON null document parses (to a VARIANT null). -#}
{% macro spark__json_or_null(expression) -%}
  case when try_parse_json(cast({{ expression }} as string)) is not null then {{ expression }} end
{%- endmacro %}

{% macro spark__malformed_json_text(expression) -%}
  case
      when {{ expression }} is not null and try_parse_json(cast({{ expression }} as string)) is null
          then left(cast({{ expression }} as string), 200)
  end
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


{#- Spark (dbt-spark, Databricks): JSON is parsed once into a VARIANT (parse_json), which
    keeps each member's JSON type; from_json(..., 'map<string,string>') would unquote a
    string "1.5" into a usable number. A member's type is the head of its
    schema_of_variant (OBJECT<...>, ARRAY<...>, STRING, BOOLEAN, BIGINT, DECIMAL(p,s),
    DOUBLE, VOID for a JSON null). Malformed text never reaches parse_json:
    spark__json_or_null sets such a document aside as malformed_json (docs/spark.md). -#}
{% macro spark__json_type_of(expression) -%}
  case {{ portfolio_embeddings.spark_variant_kind('try_parse_json(cast(' ~ expression ~ ' as string))') }}
      when 'OBJ' then 'OBJECT'
      when 'ARR' then 'ARRAY'
      when 'STR' then 'VARCHAR'
      when 'BOO' then 'BOOLEAN'
      when 'BIG' then 'BIGINT'
      when 'DEC' then 'DOUBLE'
      when 'DOU' then 'DOUBLE'
      when 'VOI' then 'NULL'
  end
{%- endmacro %}

{#- An array of struct<key, value VARIANT>, null when the document is not an object. -#}
{% macro spark__json_object_entries(expression) -%}
  map_entries(try_variant_get(parse_json(cast({{ expression }} as string)), '$', 'map<string,variant>'))
{%- endmacro %}

{% macro spark__json_member_type(value) -%}
  case {{ portfolio_embeddings.spark_variant_kind(value) }}
      when 'OBJ' then 'OBJECT'
      when 'ARR' then 'ARRAY'
      when 'STR' then 'VARCHAR'
      when 'BOO' then 'BOOLEAN'
      when 'VOI' then null
      else case when {{ value }} is not null then 'NUMBER' end
  end
{%- endmacro %}

{#- A DOUBLE member is read as it is (its JSON text may be "Infinity", quoted); any
    other number through its exact JSON text, which Spark converts correctly rounded. -#}
{% macro spark__json_member_to_double(value) -%}
  case {{ portfolio_embeddings.spark_variant_kind(value) }}
      when 'BOO' then case when variant_get({{ value }}, '$', 'boolean') then 1.0D else 0.0D end
      when 'DOU' then variant_get({{ value }}, '$', 'double')
      when 'BIG' then try_cast(to_json({{ value }}) as double)
      when 'DEC' then try_cast(to_json({{ value }}) as double)
  end
{%- endmacro %}

{#- OBJ, ARR, STR, BOO, BIG, DEC, DOU or VOI: the first three letters of the type
    schema_of_variant names (OBJECT<...>, ..., VOID for a JSON null); null for a SQL
    null. A prefix, not a regular expression: it runs for every member (the hot spot). -#}
{% macro spark_variant_kind(variant) -%}
  left(schema_of_variant({{ variant }}), 3)
{%- endmacro %}


{#- The members of a JSON document as rows (a select-list generator of two columns,
    member_index from 0 and member): `entries` (its json_object_entries), or, when they
    are null (not an object, or malformed text set aside by json_or_null), one keyless
    member holding the whole document. -#}
{% macro json_members(entries, document) %}
  {{ return(adapter.dispatch('json_members', 'portfolio_embeddings')(entries, document)) }}
{% endmacro %}

{% macro default__json_members(entries, document) -%}
  {%- set members -%}
    coalesce({{ entries }}, [{ 'key': null, 'value': cast({{ document }} as json) }])
  {%- endset -%}
  unnest({{ members }}) as member,
  generate_subscripts({{ members }}, 1) - 1 as member_index
{%- endmacro %}

{% macro spark__json_members(entries, document) -%}
  posexplode(
      coalesce(
          {{ entries }},
          array(named_struct('key', cast(null as string), 'value', cast(null as variant)))
      )
  ) as (member_index, member)
{%- endmacro %}


{#- Spark: the text of each top-level member of a JSON object, in the document's order
    and repeats included (the VARIANT keeps one member per key), each as a one-member
    object '{"key": value}'. Tokens: a string literal whole, a bracket, a comma, or a run
    of anything else; a comma one level deep ends a member. For valid JSON only. -#}
{% macro spark_object_member_texts(document) -%}
  aggregate(
      regexp_extract_all(
          cast({{ document }} as string), '"(?:[^"\\\\]|\\\\.)*"|[\\[\\]{},]|[^"\\[\\]{},]+', 0
      ),
      named_struct('depth', 0, 'member', '', 'members', cast(array() as array<string>)),
      (state, token) -> case
          when token in ('{', '[') then named_struct(
              'depth', state.depth + 1,
              'member', if(state.depth = 0, '', concat(state.member, token)),
              'members', state.members
          )
          when token in ('}', ']') or (token = ',' and state.depth = 1) then named_struct(
              'depth', state.depth - if(token = ',', 0, 1),
              'member', if(state.depth = 1, '', concat(state.member, token)),
              'members', if(
                  state.depth = 1, concat(state.members, array(concat('{', state.member, '}'))), state.members
              )
          )
          else named_struct('depth', state.depth, 'member', concat(state.member, token), 'members', state.members)
      end,
      state -> state.members
  )
{%- endmacro %}


{#- Spark: JSON text with each bare non-finite number outside its string literals (the
    spellings DuckDB reads as numbers: NaN, Infinity, inf, each with an optional minus, in
    any case) replaced by null, so that try_parse_json of it tells whether the text is
    JSON as DuckDB reads it. Tokens: a string literal whole, a lone quote, a run of
    anything else; a literal counts only as a whole word (not `infinityy`, `1.5inf`,
    `--nan`, `+inf`). -#}
{% macro spark_non_finite_as_null(text) -%}
  array_join(
      transform(
          regexp_extract_all(cast({{ text }} as string), '"(?:[^"\\\\]|\\\\.)*"|"|[^"]+', 0),
          token -> if(
              left(token, 1) = '"',
              token,
              regexp_replace(token, '(?i)(?<![A-Za-z0-9_.+-])-?(?:nan|infinity|inf)(?![A-Za-z0-9_.])', 'null')
          )
      ),
      ''
  )
{%- endmacro %}


{#- Spark: the {key, value} of a one-member object's text (spark_object_member_texts) in
    a document that holds bare non-finite numbers. A value that is such a number alone
    becomes that DOUBLE (NaN, Infinity or -Infinity) in a VARIANT, its spelling left in
    the text for json_member_raw_text; a value with one nested holds null there. -#}
{% macro spark_non_finite_member_entry(member_text) -%}
  {%- set entry = json_object_entries(spark_non_finite_as_null(member_text)) ~ '[0]' -%}
  {%- set literal -%}
    lower(regexp_extract(
        {{ member_text }}, '^\\{\\s*"(?:[^"\\\\]|\\\\.)*"\\s*:\\s*(-?(?i:infinity|inf|nan))\\s*\\}$', 1
    ))
  {%- endset -%}
  named_struct(
      'key', {{ entry }}.key,
      'value', case
          when {{ literal }} = '' then {{ entry }}.value
          when {{ literal }} like '%nan' then cast(double('NaN') as variant)
          when {{ literal }} like '-%' then cast(double('-Infinity') as variant)
          else cast(double('Infinity') as variant)
      end
  )
{%- endmacro %}


{#- The raw JSON text of a member (key, value) from json_members of `document`, null for
    a JSON null; a keyless member's text is the whole document as the source spells it. -#}
{% macro json_member_raw_text(key, value, document) %}
  {{ return(adapter.dispatch('json_member_raw_text', 'portfolio_embeddings')(key, value, document)) }}
{% endmacro %}

{#- The keyless member's value already is the document (default__json_members). -#}
{% macro default__json_member_raw_text(key, value, document) -%}
  cast({{ value }} as varchar)
{%- endmacro %}

{#- Compact JSON text, as DuckDB gives it. A rejected DOUBLE is a number beyond the double
    range, which the VARIANT holds as Infinity: its spelling (e.g. 1e400) is read back
    from the document text, the first `"key": number` in it. -#}
{% macro spark__json_member_raw_text(key, value, document) -%}
  case
      when {{ key }} is null then cast({{ document }} as string)
      when {{ portfolio_embeddings.spark_variant_kind(value) }} = 'VOI' then null
      when {{ portfolio_embeddings.spark_variant_kind(value) }} = 'DOU'
          then coalesce(
              nullif(regexp_extract(
                  cast({{ document }} as string),
                  concat('"\\Q', {{ key }}, '\\E"\\s*:\\s*(-?[0-9][-+0-9.eE]*|-?(?i:infinity|inf|nan))'),
                  1
              ), ''),
              cast(variant_get({{ value }}, '$', 'double') as string)
          )
      else to_json({{ value }})
  end
{%- endmacro %}


{#- The text of the top-level member `key` of a JSON object (JSON or JSON text). -#}
{% macro json_text_field(expression, key) %}
  {{ return(adapter.dispatch('json_text_field', 'portfolio_embeddings')(expression, key)) }}
{% endmacro %}

{% macro default__json_text_field(expression, key) -%}
  {{ expression }} ->> '{{ key }}'
{%- endmacro %}

{% macro spark__json_text_field(expression, key) -%}
  get_json_object({{ expression }}, '$.{{ key }}')
{%- endmacro %}


{#- An expression from the YAML (a test argument, a unique_key) for this engine:
    DuckDB's `column ->> 'key'` becomes json_text_field(column, key) on Spark. -#}
{% macro json_path_sql(expression) %}
  {{ return(adapter.dispatch('json_path_sql', 'portfolio_embeddings')(expression)) }}
{% endmacro %}

{% macro default__json_path_sql(expression) -%}
  {{ expression }}
{%- endmacro %}

{% macro spark__json_path_sql(expression) -%}
  {{ modules.re.sub("([A-Za-z_][A-Za-z0-9_.]*)\\s*->>\\s*'([^']*)'", "get_json_object(\\1, '$.\\2')", expression) }}
{%- endmacro %}
