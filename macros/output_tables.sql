{#-
  The shared output table is the platform's, not dbt's: when it is absent it is created
  with the platform's shape (../shared/platform_ddl.sql: embedding_id from a sequence,
  created_at defaulted, the same checks), never from the model's columns, and it is
  never dropped. Runs in on-run-start so the incremental model always finds it.
-#}
{% macro shared_table_relation(name) %}
  {#- where the model is configured to land (dbt_project.yml), from the graph, so the
      hook and the model can never disagree -#}
  {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.name == name
           and node.package_name == project_name -%}
    {{ return(api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias, type='table')) }}
  {%- endfor -%}
{% endmacro %}


{% macro ensure_output_tables() %}
  {%- if execute -%}
    {%- for name in ['numeric_window_embeddings', 'joint_embeddings'] -%}
      {%- set relation = shared_table_relation(name) -%}
      {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {%- if catalog_type(relation.database) == 'postgres' -%}
          {%- set ddl = postgres_shared_table_ddl(relation) -%}
          {%- do run_query("call postgres_execute('" ~ relation.database ~ "', '" ~ ddl | replace("'", "''") ~ "')") -%}
        {%- else -%}
          {%- do run_query(duckdb_shared_table_ddl(relation)) -%}
        {%- endif -%}
        {%- do adapter.commit() -%}
        {%- do adapter.cache_added(relation) -%}
        {{ log("Created the shared table " ~ relation ~ " with the platform's shape", info=true) }}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  select 1
{% endmacro %}


{#- The platform's DDL (../shared/platform_ddl.sql), per engine: verbatim for an
    ATTACHed PostgreSQL (run through postgres_execute so the platform's own types are
    used), and its DuckDB equivalent for the embedded target. -#}
{% macro catalog_type(database) %}
  {%- set result = run_query("select type from duckdb_databases() where database_name = '" ~ database ~ "'") -%}
  {{ return(result.columns[0].values()[0] if result.rows | length > 0 else none) }}
{% endmacro %}


{% macro postgres_shared_table_ddl(relation) %}
{%- set table = relation.schema ~ '.' ~ relation.identifier -%}
{%- if relation.identifier == 'joint_embeddings' -%}
create table if not exists {{ table }} (
    joint_id     bigserial primary key,
    joint_type   varchar(32) not null,
    as_of_date   date not null,
    entity_scope jsonb not null,
    model_id     varchar(64) not null,
    vector       bytea,
    vector_ref   varchar(255),
    created_at   timestamptz not null default now()
);
create index if not exists idx_joint_embeddings_type_date_model
    on {{ table }} (joint_type, as_of_date, model_id);
{%- else -%}
create table if not exists {{ table }} (
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
    on {{ table }} (entity_type, entity_id, as_of_date, model_id);
{%- endif -%}
{% endmacro %}


{% macro duckdb_shared_table_ddl(relation) %}
{%- set sequence = relation.schema ~ '.' ~ relation.identifier ~ '_id_seq' -%}
create sequence if not exists {{ relation.database }}.{{ sequence }};
{%- if relation.identifier == 'joint_embeddings' %}
create table if not exists {{ relation }} (
    joint_id     bigint not null default nextval('{{ sequence }}'),
    joint_type   varchar(32) not null,
    as_of_date   date not null,
    entity_scope json not null,
    model_id     varchar(64) not null,
    vector       blob,
    vector_ref   varchar(255),
    created_at   timestamp with time zone not null default current_timestamp
);
{%- else %}
create table if not exists {{ relation }} (
    embedding_id bigint not null default nextval('{{ sequence }}'),
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
{%- endif %}
{% endmacro %}
