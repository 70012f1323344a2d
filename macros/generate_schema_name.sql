{#- A configured schema is used as it is (dbt's default prefixes it with the target
    schema, which would turn the platform's `public` into `main_public`). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name | trim) if custom_schema_name else target.schema }}
{%- endmacro %}
