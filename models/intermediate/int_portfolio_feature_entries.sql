{#-
  Every member of the three JSON columns of the selected reports, one row each, with a
  double value when it is usable and a reject_reason when it is not. A JSON column that
  is neither an object nor null yields one row with feature_key null; a column whose
  text is not JSON at all yields one malformed_json row with the text (cut to 200
  characters). A key repeated within one object: the last occurrence counts, as in
  PostgreSQL's jsonb, each earlier one is a duplicate_key reject (entry_position says
  which). Nothing is dropped here: int_portfolio_features keeps the usable rows,
  portfolio_feature_rejects the others.

  The pipeline's hot spot, so one pass: the three columns become three rows per
  report, each parsed and unnested once (types and values read from the members'
  compact text), a non-object column coming out of the same unnest as a single
  keyless member (docs/performance.md).
-#}

with

documents as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        unnest(['risk_metrics', 'sector', 'factor']) as feature_group,
        -- JSON text or JSON, as the source holds it: json_object_entries parses it once;
        -- text that is not JSON is set aside (it would stop the parse of every report)
        unnest([
            {{ json_or_null('risk_metrics') }},
            {{ json_or_null('exposures_by_sector') }},
            {{ json_or_null('exposures_by_factor') }}
        ]) as json_document,
        unnest([
            {{ malformed_json_text('risk_metrics') }},
            {{ malformed_json_text('exposures_by_sector') }},
            {{ malformed_json_text('exposures_by_factor') }}
        ]) as malformed_text
    from {{ ref('int_portfolio_states_to_encode') }}

),

parsed as (

    select
        *,
        case
            when malformed_text is not null then [{ 'key': null, 'value': cast(null as json) }]
            else coalesce(
                {{ json_object_entries('json_document') }},
                [{ 'key': null, 'value': cast(json_document as json) }]
            )
        end as entries
    from documents
    where json_document is not null or malformed_text is not null

),

members as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        malformed_text,
        unnest(entries) as member,
        generate_subscripts(entries, 1) as entry_position,
        -- true for a member whose key comes again later in its object; null when no key repeats
        unnest({{ shadowed_entries('entries') }}) as is_shadowed
    from parsed

),

typed_members as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        entry_position,
        member.key as feature_key,
        coalesce(malformed_text, cast(member.value as varchar)) as raw_json,
        malformed_text is not null as is_malformed,
        coalesce(is_shadowed, false) as is_shadowed,
        {{ json_member_type('member.value') }} as value_type,
        {{ json_member_to_double('member.value') }} as parsed_value
    from members

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
            when not isfinite(parsed_value) then 'non_finite_number'
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
    case when reject_reason is not null then raw_json end as raw_value,
    reject_reason
from classified
