{#- Rows whose column exceeds `threshold` (a number, e.g. from a var): e.g. a drift
    step larger than drift_step_threshold. Null values pass. -#}
{% test at_most(model, column_name, threshold) %}
{%- if threshold is not number and not modules.re.fullmatch('[0-9]+([.][0-9]*)?', threshold | string) -%}
  {{ exceptions.raise_compiler_error("at_most: threshold must be a non-negative number, got " ~ threshold) }}
{%- endif %}

select *
from {{ model }}
where {{ column_name }} > {{ threshold }}

{% endtest %}
