{#-
  Every member of the three JSON columns of the selected reports, one row each, with a
  double value when it is usable and a reject_reason when it is not. A JSON column that
  is neither an object nor null yields one row with feature_key null. Nothing is
  dropped here: int_portfolio_features keeps the usable rows, portfolio_feature_rejects
  the others.

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
        -- JSON text or JSON, as the source holds it: json_object_entries parses it once
        {{ unnest_in_step({
            'feature_group': ["'risk_metrics'", "'sector'", "'factor'"],
            'json_document': ['risk_metrics', 'exposures_by_sector', 'exposures_by_factor'],
        }) }}
    from {{ ref('int_portfolio_states_to_encode') }}

),

members as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        json_document,
        {{ json_members('json_document') }} as member
    from documents
    where json_document is not null

),

typed_members as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        member.key as feature_key,
        json_document,
        member.value as raw_json,
        {{ json_member_type('member.value') }} as value_type,
        {{ json_member_to_double('member.value') }} as parsed_value
    from members

),

classified as (

    select
        *,
        case
            when feature_key is null then 'not_a_json_object'
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
    -- what the encoders hash into a direction; its one definition
    feature_group || ':' || feature_key as feature_name,
    case when reject_reason is null then parsed_value end as feature_value,
    -- the raw JSON text is kept only where a person needs to read it
    case
        when reject_reason is not null
            then {{ json_member_raw_text('feature_key', 'raw_json', 'json_document') }}
    end as raw_value,
    reject_reason
from classified
