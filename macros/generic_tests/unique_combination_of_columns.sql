{#- After dbt-utils: no two rows share the same values across the given columns. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set columns = [] -%}
{%- for column in combination_of_columns -%}
  {%- do columns.append(portfolio_embeddings.json_path_sql(column) | trim) -%}
{%- endfor %}

select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
