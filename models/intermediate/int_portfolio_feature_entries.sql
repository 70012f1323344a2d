{#-
  Every member of the three JSON columns of the selected reports, one row each, with a
  double value when it is usable and a reject_reason when it is not. A JSON column that
  is neither an object nor null yields one row with feature_key null; a column whose
  text is not JSON at all yields one malformed_json row with the text (cut to 200
  characters). A key repeated within one object: the last occurrence counts, as in
  PostgreSQL's jsonb, each earlier one is a duplicate_key reject (entry_position says
  which). Nothing is dropped here: int_portfolio_features keeps the usable rows,
  portfolio_feature_rejects the others.

  The members come typed from typed_feature_members (macros/feature_members.sql: one
  query per engine, docs/spark.md); the reasons are decided here, once.
  The pipeline's hot spot, so one pass: the three columns become three rows per
  report, each parsed and unnested once (types and values read from the members'
  compact text), a non-object column coming out of the same unnest as a single
  keyless member (docs/performance.md).
-#}

with

typed_members as (

    {{ typed_feature_members(ref('int_portfolio_states_to_encode')) }}

),

classified as (

    select
        *,
        case
            when is_malformed then 'malformed_json'
            when feature_key is null then 'not_a_json_object'
            when is_shadowed then 'duplicate_key'
            when value_type is null then 'null_value'
            when value_type = 'VARCHAR' then 'string_value'
            when value_type = 'OBJECT' then 'object_value'
            when value_type = 'ARRAY' then 'array_value'
            when parsed_value is null then 'unparsable_number'
            when not {{ is_finite_double('parsed_value') }} then 'non_finite_number'
        end as reject_reason
    from typed_members

)

select
    state_idx,
    portfolio_id,
    as_of_date,
    report_id,
    feature_group,
    feature_key,
    entry_position,
    -- what the encoders hash into a direction; its one definition
    feature_group || ':' || feature_key as feature_name,
    case when reject_reason is null then parsed_value end as feature_value,
    -- the raw JSON text is kept only where a person needs to read it
    case when reject_reason is not null then {{ feature_raw_value() }} end as raw_value,
    reject_reason
from classified
