{#- Within each group of rows (the `group_by` columns), `expression` takes exactly one
    value, null counting as a value: e.g. one encoder_spec_hash per model_id, so that
    two vector spaces never mix under one name. One failing row per mixed group. -#}
{% test one_value_per_group(model, expression, group_by) %}

select
    {{ group_by | join(', ') }},
    count(distinct coalesce(cast({{ portfolio_embeddings.json_path_sql(expression) }} as {{ portfolio_embeddings.text_type() }}), '<null>')) as n_values
from {{ model }}
group by {{ group_by | join(', ') }}
having count(distinct coalesce(cast({{ portfolio_embeddings.json_path_sql(expression) }} as {{ portfolio_embeddings.text_type() }}), '<null>')) > 1

{% endtest %}
