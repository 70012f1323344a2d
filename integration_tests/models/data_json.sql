-- JSON documents for is_json_object, as literals: a seed cannot hold the JSON literal
-- `null` (dbt reads "null" in a CSV as SQL null). The `good` rows are JSON objects; every
-- other case_name is one kind of non-object.
with

cases (case_name, note, doc) as (

    values
    ('good', 'an empty object', '{}'),
    ('good', 'a window_spec', '{"window_days": 1, "model_id": "num-portfolio-core-v1"}'),
    ('good', 'nested array, object and null members', '{"a": [1, 2], "b": {"c": null}}'),
    ('good', 'whitespace around the object', '  {"a": 1}  '),
    ('good', 'non-ASCII keys and values', '{"München": "ü", "emoji": "😀"}'),
    ('array', 'an array of objects', '[{"a": 1}]'),
    ('string', 'a JSON string holding the text of an object', '"{\"a\": 1}"'),
    ('number', 'a JSON number', '1'),
    ('json_null', 'the JSON literal null', 'null'),
    ('sql_null', 'SQL null', null),
    ('malformed', 'not JSON: an unterminated object', '{"a": 1')

)

select
    case_name,
    note,
    -- the type of window_spec on the dev target; try_cast: `malformed` has no JSON value,
    -- its test reads doc_text
    try_cast(doc as json) as doc_json,
    -- on the postgres target jsonb reaches DuckDB as varchar
    doc as doc_text

from cases
