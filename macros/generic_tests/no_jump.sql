{#- Rows whose column is more than (1 + max_rise) times its value on the previous row
    of its group (group_by, in order_by order): e.g. a date whose dispersion rises by
    more than dispersion_jump. A first row, or a previous value of 0 or null, passes. -#}
{% test no_jump(model, column_name, order_by, group_by, max_rise) %}
{%- if max_rise is not number and not modules.re.fullmatch('[0-9]+([.][0-9]*)?', max_rise | string) -%}
  {{ exceptions.raise_compiler_error("no_jump: max_rise must be a non-negative number, got " ~ max_rise) }}
{%- endif %}

with

ordered as (

    select
        *,
        lag({{ column_name }}) over (
            partition by {{ group_by | join(', ') }} order by {{ order_by }}
        ) as previous_value
    from {{ model }}

)

select *
from ordered
where previous_value > 0 and {{ column_name }} > (1 + {{ max_rise }}) * previous_value

{% endtest %}
