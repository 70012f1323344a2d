{#-
  Override of dbt-duckdb's py_write_table (adapters.sql): where a Python model's rows
  go before the incremental strategy copies them into the target.

  Upstream names the batch relation with its database and schema, which on the
  postgres target means a 1.5 GB batch table inside the platform's database, or a
  DuckDB TEMP table, which lives in memory. Here the batch is always a plain table of
  the default catalog (the embedded DuckDB file, or the postgres target's local scratch
  file), so DuckDB's memory_limit can evict it to that file: a 1M-portfolio run stays
  under 3 GiB on both targets. (A TEMP table would spill to the temp directory
  instead: with memory_limit set, DuckDB 1.5.5 spilling a 1M-row TEMP table of
  Arrow-sourced rows corrupted strings in 2 of 5 runs, "Invalid unicode detected in
  segment statistics update"; a persistent batch passed every run.)

  Python models run before the materialization's BEGIN, so the batch is committed on
  its own; keyed_replace drops it in the write's transaction when the target shares
  its catalog (dev), and drop_python_model_batches drops it after the commit when the
  target is an ATTACHed PostgreSQL (a DuckDB transaction may write only one attached
  database). A batch left by a failed run is dropped here before the next one.
-#}
{% macro py_write_table(temporary, relation, compiled_code, partitioned_by=none, sorted_by=none) -%}
{{ compiled_code }}

def materialize(df, con):
    try:
        import pyarrow
        pyarrow_available = True
    except ImportError:
        pyarrow_available = False
    finally:
        if pyarrow_available and isinstance(df, pyarrow.Table):
            # https://github.com/duckdb/duckdb/issues/6584
            import pyarrow.dataset
    tmp_name = '__dbt_python_model_df_' + '{{ relation.identifier }}'
    con.register(tmp_name, df)
    {%- set stale_batches = drop_python_model_batches() | trim %}
    {%- if stale_batches %}
    con.execute('''{{ stale_batches }}''')  # a failed run's batch
    {%- endif %}
    con.execute('create table {{ relation.include(database=false, schema=false) if temporary else relation }} as select * from ' + tmp_name)
    con.unregister(tmp_name)
{% endmacro %}


{#- Drops the Python model's batch tables: as its post-hook (outside the transaction)
    once the write has committed, and from py_write_table before a new batch is
    written (a failed run's). -#}
{% macro drop_python_model_batches() %}
  {%- if execute -%}
    {%- set batches = run_query(
        "select table_name from duckdb_tables() where database_name = current_database() "
        ~ "and schema_name = current_schema() "
        ~ "and starts_with(table_name, '" ~ this.identifier ~ "__dbt_tmp')") -%}
    {%- for row in batches.rows %}
    drop table if exists "{{ row[0] }}";
    {%- endfor %}
  {%- endif -%}
{% endmacro %}
