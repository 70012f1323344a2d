{#-
  Override of dbt-duckdb's py_write_table (adapters.sql): where a Python model's rows
  go once the model has returned them.

  Embedded target: into a batch table of the default catalog, from which the
  keyed_replace strategy copies them into the target in the materialization's
  transaction. The batch is a plain table (not TEMP), so DuckDB's memory_limit can evict
  it to the file: a 1M-portfolio run stays under 3 GiB. (With memory_limit set, DuckDB
  1.5.5 spilling a 1M-row TEMP table of Arrow-sourced rows corrupted strings in 2 of 5
  runs, "Invalid unicode detected in segment statistics update".) keyed_replace drops
  it in the same transaction.

  Target in an ATTACHed PostgreSQL (the postgres target): the rows are streamed
  straight into the target by portfolio_embeddings.postgres_copy.keyed_copy (a binary COPY overlapped
  with the encoding, then the delete of the keys it replaces, in one PostgreSQL
  transaction under an advisory lock), and the batch left for the materialization is
  empty, so keyed_replace has nothing more to do; drop_python_model_batches drops it
  after the commit.

  Python models run before the materialization's BEGIN, so a batch commits on its own;
  one left by a failed run is dropped here before the next is written.
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
    {%- set batch = relation.include(database=false, schema=false) if temporary else relation %}
    {%- if catalog_type(this.database) == 'postgres' %}
    from portfolio_embeddings.postgres_copy.keyed_copy import attached_dsn, keyed_copy, record_batches
    rows = record_batches(con, df, tmp_name)
    keyed_copy(
        rows,
        attached_dsn(con, {{ this.database | tojson }}),
        schema={{ this.schema | tojson }},
        table={{ this.identifier | tojson }},
        keys={{ config.get('unique_key') | tojson }},
        lock_name={{ ('portfolio_embeddings:' ~ this.identifier) | tojson }},
    )
    # the rows are in PostgreSQL: the materialization gets an empty batch of their shape
    con.register(tmp_name + '_shape', rows.schema.empty_table())
    con.execute('create table {{ batch }} as select * from ' + tmp_name + '_shape')
    con.unregister(tmp_name + '_shape')
    {%- else %}
    con.execute('create table {{ batch }} as select * from ' + tmp_name)
    {%- endif %}
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
