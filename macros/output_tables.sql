{#-
  The shared output table is the platform's, not dbt's: when it is absent it is created
  with the platform's shape (../shared/platform_ddl.sql: embedding_id from a sequence,
  created_at defaulted, the same checks), never from the model's columns, and it is
  never dropped. Runs in on-run-start so the incremental model always finds it.
-#}
{% macro numeric_window_embeddings_relation() %}
  {#- where the model is configured to land (dbt_project.yml), from the graph, so the
      hook and the model can never disagree -#}
  {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.name == 'numeric_window_embeddings'
           and node.package_name == project_name -%}
    {{ return(api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias, type='table')) }}
  {%- endfor -%}
{% endmacro %}


{% macro ensure_output_tables() %}
  {%- if execute -%}
    {%- set relation = numeric_window_embeddings_relation() -%}
    {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
      {%- do run_query(create_numeric_window_embeddings(relation)) -%}
      {%- do adapter.commit() -%}
      {%- do adapter.cache_added(relation) -%}
      {{ log("Created the shared table " ~ relation ~ " with the platform's shape", info=true) }}
    {%- endif -%}
  {%- endif -%}
  select 1
{% endmacro %}


{#- The DDL depends on which engine holds the table: a DuckDB catalog (dev) or a
    PostgreSQL database ATTACHed to DuckDB (postgres target), where it runs verbatim
    through postgres_execute so that the platform's own types are used. -#}
{% macro create_numeric_window_embeddings(relation) %}
  {%- if catalog_type(relation.database) == 'postgres' -%}
    {{ return(postgres_create_numeric_window_embeddings(relation)) }}
  {%- else -%}
    {{ return(duckdb_create_numeric_window_embeddings(relation)) }}
  {%- endif -%}
{% endmacro %}


{% macro catalog_type(database) %}
  {%- set result = run_query("select type from duckdb_databases() where database_name = '" ~ database ~ "'") -%}
  {{ return(result.columns[0].values()[0] if result.rows | length > 0 else none) }}
{% endmacro %}


{% macro postgres_create_numeric_window_embeddings(relation) %}
{%- set ddl -%}
create table if not exists {{ relation.schema }}.{{ relation.identifier }} (
    embedding_id bigserial primary key,
    entity_type  varchar(32) not null,
    entity_id    varchar(64) not null,
    window_spec  jsonb not null,
    as_of_date   date not null,
    model_id     varchar(64) not null,
    vector       bytea,
    vector_ref   varchar(255),
    created_at   timestamptz not null default now(),
    constraint ck_numeric_window_embeddings_entity_type_nonempty check (btrim(entity_type) <> ''),
    constraint ck_numeric_window_embeddings_entity_id_nonempty check (btrim(entity_id) <> ''),
    constraint ck_numeric_window_embeddings_model_id_nonempty check (btrim(model_id) <> ''),
    constraint ck_numeric_window_embeddings_window_spec_object check (jsonb_typeof(window_spec) = 'object'),
    constraint ck_numeric_window_embeddings_vector_or_ref_present check (vector is not null or vector_ref is not null),
    constraint ck_numeric_window_embeddings_vector_bytes_nonempty_when_present check (vector is null or octet_length(vector) > 0)
);
create index if not exists idx_numeric_embeddings_entity_date_model
    on {{ relation.schema }}.{{ relation.identifier }} (entity_type, entity_id, as_of_date, model_id);
{%- endset -%}
call postgres_execute('{{ relation.database }}', '{{ ddl | replace("'", "''") }}')
{% endmacro %}


{% macro duckdb_create_numeric_window_embeddings(relation) %}
create sequence if not exists {{ relation.database }}.{{ relation.schema }}.numeric_window_embeddings_embedding_id_seq;
create table if not exists {{ relation }} (
    embedding_id bigint not null default nextval('{{ relation.schema }}.numeric_window_embeddings_embedding_id_seq'),
    entity_type  varchar(32) not null check (trim(entity_type) <> ''),
    entity_id    varchar(64) not null check (trim(entity_id) <> ''),
    window_spec  json not null check (json_type(window_spec) = 'OBJECT'),
    as_of_date   date not null,
    model_id     varchar(64) not null check (trim(model_id) <> ''),
    vector       blob,
    vector_ref   varchar(255),
    created_at   timestamp with time zone not null default current_timestamp,
    check (vector is not null or vector_ref is not null),
    check (vector is null or octet_length(vector) > 0)
);
{% endmacro %}
