{#-
  Every entry of the three JSON columns of the selected reports, one row each, with a
  double value when it is usable and a reject_reason when it is not. A JSON column that
  is neither an object nor null yields one row with feature_key null. Nothing is
  dropped here: int_portfolio_features keeps the usable rows, portfolio_feature_rejects
  the others.

  This is the pipeline's hot spot (about 30 entries a report); it reads the reports
  once and unnests the three columns in one pass.
-#}

with

reports as (

    select * from {{ ref('stg_portfolio_risk_reports') }}

),

documents as (

    -- one row per (report, JSON column); feature_group names the column
    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        unnest(['risk_metrics', 'sector', 'factor']) as feature_group,
        unnest([
            cast(risk_metrics as json),
            cast(exposures_by_sector as json),
            cast(exposures_by_factor as json)
        ]) as document
    from reports

),

typed_documents as (

    select
        *,
        {{ json_type_of('document') }} as document_type
    from documents
    where document is not null

),

object_members as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        unnest({{ json_object_entries('document') }}) as member
    from typed_documents
    where document_type = 'OBJECT'

),

typed_members as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        member.key as feature_key,
        member.value as raw_json,
        coalesce({{ json_type_of('member.value') }}, 'NULL') as value_type
    from object_members

),

valued_members as (

    select
        *,
        {{ json_scalar_to_double('raw_json', 'value_type') }} as parsed_value
    from typed_members

),

member_entries as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        feature_key,
        case
            when value_type = 'VARCHAR' then 'string_value'
            when value_type = 'NULL' then 'null_value'
            when value_type = 'OBJECT' then 'object_value'
            when value_type = 'ARRAY' then 'array_value'
            when parsed_value is null then 'unparsable_number'
            when not isfinite(parsed_value) then 'non_finite_number'
        end as reject_reason,
        parsed_value,
        raw_json
    from valued_members

),

document_rejects as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        cast(null as varchar) as feature_key,
        'not_a_json_object' as reject_reason,
        cast(null as double) as parsed_value,
        document as raw_json
    from typed_documents
    where document_type <> 'OBJECT'

),

all_entries as (

    select * from member_entries
    union all
    select * from document_rejects

)

select
    state_idx,
    portfolio_id,
    as_of_date,
    report_id,
    feature_group,
    feature_key,
    case when reject_reason is null then parsed_value end as feature_value,
    -- the raw JSON text is kept only where a person needs to read it
    case when reject_reason is not null then cast(raw_json as varchar) end as raw_value,
    reject_reason
from all_entries
