{#-
  The platform's DDL of the shared tables, one source per engine: for an ATTACHed
  PostgreSQL verbatim as the platform's migrations create them (docs/contracts.md; the
  copy in tests/fixtures/platform_ddl.sql is compared with it by a test), run through
  postgres_execute so the platform's own types are used; and its DuckDB equivalent for
  the embedded target.
-#}

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
{%- elif relation.identifier == 'numeric_window_embeddings' -%}
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
{%- else -%}
  {{ exceptions.raise_compiler_error("no platform DDL for a shared table named " ~ relation.identifier) }}
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
{%- elif relation.identifier == 'numeric_window_embeddings' %}
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
{%- else -%}
  {{ exceptions.raise_compiler_error("no platform DDL for a shared table named " ~ relation.identifier) }}
{%- endif %}
{% endmacro %}
