{#- Every value of the column is a JSON object (not an array, a scalar, null, or text
    that is not JSON at all). -#}
{% test is_json_object(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is null
   or coalesce({{ portfolio_embeddings.json_type_of(column_name) }}, 'NOT JSON') <> 'OBJECT'

{% endtest %}
