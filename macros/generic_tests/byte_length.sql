{#- Every non-null value of a binary column is exactly `length` bytes long
    (a 384-dim float32 vector is 1536 bytes). -#}
{% test byte_length(model, column_name, length) %}

select {{ column_name }} is null as is_null, octet_length({{ column_name }}) as n_bytes
from {{ model }}
where {{ column_name }} is not null
  and octet_length({{ column_name }}) <> {{ length }}

{% endtest %}
