{#-
  The members of the three JSON columns of `states` (int_portfolio_states_to_encode),
  typed, one row each: int_portfolio_feature_entries' typed_members. Columns:
  state_idx, portfolio_id, as_of_date, report_id, feature_group, entry_position,
  feature_key, raw_json, is_malformed, is_shadowed, value_type, parsed_value (and, on
  Spark, json_document and malformed_text for feature_raw_value). The engines parse
  JSON differently (docs/spark.md), so each has its own query; the reasons are decided
  from these columns once, in the model.
-#}
{% macro typed_feature_members(states) %}
  {{ return(adapter.dispatch('typed_feature_members', 'portfolio_embeddings')(states)) }}
{% endmacro %}

{#- DuckDB and PostgreSQL (DuckDB's SQL). A document that is a JSON object costs one
    parse (json_object_or_null); only the few others (not an object, not JSON) pay the
    checks that tell them apart (docs/performance.md). -#}
{% macro default__typed_feature_members(states) -%}
{%- set documents = [
    ('risk_metrics', 'risk_metrics'),
    ('sector', 'exposures_by_sector'),
    ('factor', 'exposures_by_factor'),
] -%}
with
{% for feature_group, column in documents %}
parsed_{{ feature_group }} as (

    -- one column at a time: each keeps its own type (JSON, text, MAP), where a list of
    -- the three would cast text to JSON and fail on text that is not JSON
    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        {{ column }} as json_document,
        {{ json_object_or_null(column) }} as json_object
    from {{ states }}
    where {{ column }} is not null

),
{% endfor %}
checked as (
{% for feature_group, column in documents %}
    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        '{{ feature_group }}' as feature_group,
        -- text that is not JSON is set aside: it would stop the parse of every report
        case when json_object is null then {{ malformed_json_text('json_document') }} end
            as malformed_text,
        case
            when json_object is not null then map_entries(json_object)
            when {{ malformed_json_text('json_document') }} is not null
                then [{ 'key': cast(null as varchar), 'value': cast(null as json) }]
            else coalesce(
                {{ json_object_entries('json_document') }},
                [{ 'key': cast(null as varchar), 'value': cast(json_document as json) }]
            )
        end as entries
    from parsed_{{ feature_group }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
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
    from checked

)

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
{%- endmacro %}

{#- Spark: the position is the key's place in json_object_keys (the map from the VARIANT
    is in key order, not the document's). A key given twice (parsed with the profile's
    spark.sql.variant.allowDuplicateKeys: the map holds its last value only): each
    member of that document is read alone from its own text, in the document's order,
    and each one whose key comes again later is shadowed, as on DuckDB. A document
    try_parse_json refuses that is JSON as DuckDB reads it, bare NaN / Infinity
    included (its text parses once they are null: spark_non_finite_as_null), is split
    the same way, each member read alone (spark_non_finite_member_entry). Only such
    refused documents pay for the check. -#}
{% macro spark__typed_feature_members(states) -%}
with

documents as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        -- JSON text or JSON, as the source holds it: json_object_entries parses it once;
        -- text that is not JSON is set aside (it would stop the parse of every report)
        {{ unnest_in_step({
            'feature_group': ["'risk_metrics'", "'sector'", "'factor'"],
            'json_document': [
                json_or_null('risk_metrics'),
                json_or_null('exposures_by_sector'),
                json_or_null('exposures_by_factor'),
            ],
            'malformed_text': [
                malformed_json_text('risk_metrics'),
                malformed_json_text('exposures_by_sector'),
                malformed_json_text('exposures_by_factor'),
            ],
            'document_text': [
                'cast(risk_metrics as string)',
                'cast(exposures_by_sector as string)',
                'cast(exposures_by_factor as string)',
            ],
        }) }}
    from {{ states }}

),

non_finite as (

    -- a refused document (rare): with its bare NaN / Infinity null, is it JSON?
    select
        *,
        case when malformed_text is not null then {{ spark_non_finite_as_null('document_text') }} end
            as finite_text
    from documents
    where json_document is not null or malformed_text is not null

),

rescued as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        -- JSON as DuckDB reads it: kept, with finite_text (its NaN null) the text Spark parses
        coalesce(json_document, if(try_parse_json(finite_text) is not null, document_text, null))
            as json_document,
        if(try_parse_json(finite_text) is not null, null, malformed_text) as malformed_text,
        if(try_parse_json(finite_text) is not null, finite_text, null) as finite_text
    from non_finite

),

objects as (

    select
        *,
        -- the keys in the document's order, repeats included: the VARIANT's map holds
        -- them sorted, once each
        json_object_keys(coalesce(finite_text, cast(json_document as string))) as document_keys,
        {{ json_object_entries('coalesce(finite_text, cast(json_document as string))') }} as entries
    from rescued

),

repeated as (

    select
        *,
        -- null unless a key repeats or the document has a bare NaN / Infinity (rare):
        -- only then is the document split into members
        case
            when size(document_keys) > size(entries) or (finite_text is not null and entries is not null)
                then {{ spark_object_member_texts('json_document') }}
        end as member_texts
    from objects

),

members as (

    select
        state_idx,
        portfolio_id,
        as_of_date,
        report_id,
        feature_group,
        json_document,
        malformed_text,
        finite_text,
        document_keys,
        member_texts,
        {{ json_members(
            'coalesce(transform(member_texts, member_text -> if(finite_text is null, '
            ~ json_object_entries('member_text') ~ '[0], '
            ~ spark_non_finite_member_entry('member_text') ~ ')), entries)',
            'json_document'
        ) }}
    from repeated

)

select
    state_idx,
    portfolio_id,
    as_of_date,
    report_id,
    feature_group,
    case
        when member_texts is not null then member_index + 1
        else coalesce(array_position(document_keys, member.key), member_index + 1)
    end as entry_position,
    member.key as feature_key,
    -- a repeated key's member: its own text, where feature_raw_value reads a spelling
    coalesce(member_texts[member_index], json_document) as json_document,
    malformed_text,
    member.value as raw_json,
    malformed_text is not null as is_malformed,
    coalesce(
        member_texts is not null
        and size(document_keys) - array_position(reverse(document_keys), member.key) > member_index,
        false
    ) as is_shadowed,
    {{ json_member_type('member.value') }} as value_type,
    {{ json_member_to_double('member.value') }} as parsed_value
from members
{%- endmacro %}


{#- The raw JSON text of a rejected member, for a person to read: typed_feature_members'
    raw_json, on Spark read back from the document (json_member_raw_text) only for the
    rejects. -#}
{% macro feature_raw_value() %}
  {{ return(adapter.dispatch('feature_raw_value', 'portfolio_embeddings')()) }}
{% endmacro %}

{% macro default__feature_raw_value() -%}
  raw_json
{%- endmacro %}

{% macro spark__feature_raw_value() -%}
  coalesce(
      malformed_text,
      {{ portfolio_embeddings.json_member_raw_text('feature_key', 'raw_json', 'json_document') }}
  )
{%- endmacro %}
