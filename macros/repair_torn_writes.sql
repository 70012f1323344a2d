{#-
  on-run-start: a DuckDB process killed during a big COMMIT can have its WAL replayed
  in part on the next open (DuckDB 1.5.5; upstream pull request 25931): the insert of
  a keyed replace without its delete, so a key holds its old and its new row. Before
  anything reads or writes, each shared table on the DuckDB engine keeps, per natural
  key (the model's unique_key), only its newest row (created_at, then the last
  written). PostgreSQL needs none of this: its commit is atomic.
-#}
{% macro repair_torn_writes() %}
  {%- if execute and target.type == 'duckdb' -%}
    {%- for node in graph.nodes.values()
          if node.resource_type == 'model' and node.config.materialized == 'shared_table' -%}
      {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
      {%- if relation is not none and catalog_type(relation.database) != 'postgres' -%}
        {%- set keys = node.config.unique_key -%}
        {%- set keys = [keys] if keys is string else keys -%}
        {%- set partition = keys | join(', ') -%}
        {%- set torn = run_query(
            "select count(*) from (select 1 from " ~ relation ~ " group by " ~ partition
            ~ " having count(*) > 1)") -%}
        {%- set n_torn = torn.columns[0].values()[0] -%}
        {%- if n_torn > 0 -%}
          {%- do run_query(
              "delete from " ~ relation ~ " where rowid in (select rowid from ("
              ~ "select rowid, row_number() over (partition by " ~ partition
              ~ " order by created_at desc, rowid desc) as newest from " ~ relation
              ~ ") where newest > 1)") -%}
          {%- do adapter.commit() -%}
          {{ log("Repaired " ~ n_torn ~ " key(s) of " ~ relation ~ " held twice after an interrupted commit: kept the newest row of each", info=true) }}
        {%- endif -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  select 1
{% endmacro %}
