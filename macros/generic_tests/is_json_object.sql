{#- Every value of the column is a JSON object (not an array, scalar or null). -#}
{% test is_json_object(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is null
   or {{ json_type_of(column_name) }} <> 'OBJECT'

{% endtest %}
