{#- joint_embeddings has a row exactly for each numeric vector of its card's source
    model: one row per state that is in one table and not in the other. -#}

with

joint as (

    select
        {{ json_text_field('entity_scope', 'portfolio_id') }} as portfolio_id,
        as_of_date,
        {{ json_text_field('entity_scope', 'source_model_id') }} as source_model_id
    from {{ ref('joint_embeddings') }}
    where model_id = '{{ var("joint_model_id") }}'

),

numeric_rows as (

    select
        entity_id as portfolio_id,
        as_of_date,
        model_id as source_model_id
    from {{ ref('numeric_window_embeddings') }}
    where
        entity_type = 'PORTFOLIO'
        and vector is not null
        and model_id in (select joint.source_model_id from joint)

)

select
    coalesce(numeric_rows.portfolio_id, joint.portfolio_id) as portfolio_id,
    coalesce(numeric_rows.as_of_date, joint.as_of_date) as as_of_date,
    case
        when joint.portfolio_id is null then 'numeric row without a joint row'
        else 'joint row without a numeric row'
    end as problem
from numeric_rows
full outer join joint
    on
        numeric_rows.portfolio_id = joint.portfolio_id
        and numeric_rows.as_of_date = joint.as_of_date
        and numeric_rows.source_model_id = joint.source_model_id
where numeric_rows.portfolio_id is null or joint.portfolio_id is null
