{#- A pre-hook: logs a warning when the seed `relation` is not loaded (the model then
    keeps what it stored); renders no SQL. -#}
{% macro warn_if_not_seeded(relation) %}
  {%- if execute and load_relation(relation) is none -%}
    {{ log("Warning: the seed " ~ relation.identifier ~ " is not loaded: run `dbt seed` (make run does); "
           ~ model.name ~ " keeps what it stored", info=true) }}
  {%- endif -%}
{% endmacro %}
