{#-
  The relation has each listed column with the listed type (as the engine reports it,
  case-insensitive). A model-level stand-in for a contract: dbt does not enforce
  contracts on Python models. One failing row per missing or mistyped column.
-#}
{% test column_types(model, expected) %}
  {%- set ns = namespace(failures=[]) -%}
  {%- if execute -%}
    {%- set actual = {} -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
      {%- do actual.update({column.name | lower: portfolio_embeddings.canonical_type_name(column.dtype)}) -%}
    {%- endfor -%}
    {%- for name, data_type in expected.items() -%}
      {%- set found = actual.get(name | lower) -%}
      {%- if found is none or found != data_type | upper -%}
        {%- do ns.failures.append((name, data_type | upper, found or 'missing')) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}

  {%- for name, wanted, found in ns.failures %}
select '{{ name }}' as column_name, '{{ wanted }}' as expected_type, '{{ found }}' as actual_type
{{ 'union all' if not loop.last }}
  {%- else %}
select null as column_name, null as expected_type, null as actual_type
where false
  {%- endfor %}
{% endtest %}
