{#- The relation where this project's model `name` is configured to land (from the
    graph, so it can never disagree with the model), or none while that table does
    not exist yet. For reading what earlier runs stored without a ref: a model that
    decides what the outputs need cannot depend on them. -#}
{% macro existing_output(name) %}
  {%- if not execute -%}
    {{ return(none) }}
  {%- endif -%}
  {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.name == name
           and node.package_name == 'portfolio_embeddings' -%}
    {{ return(adapter.get_relation(node.database, node.schema, node.alias)) }}
  {%- endfor -%}
  {{ return(none) }}
{% endmacro %}


{#- existing_output(name) to select from, or an empty relation with the given columns
    ({name: type}) while the table is absent or lacks one of them (a table from before
    a column was added). -#}
{% macro existing_output_or_empty(name, columns) %}
  {%- set relation = existing_output(name) -%}
  {%- if relation is not none -%}
    {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- if columns.keys() | reject('in', present) | list | length == 0 -%}
      {{ return(relation) }}
    {%- endif -%}
  {%- endif -%}
  {%- set typed = [] -%}
  {%- for column, data_type in columns.items() -%}
    {%- do typed.append('cast(null as ' ~ engine_type(data_type) ~ ') as ' ~ column) -%}
  {%- endfor -%}
  {{ return('(select ' ~ typed | join(', ') ~ ' where false)') }}
{% endmacro %}
