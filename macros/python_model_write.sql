{#-
  Override of dbt-duckdb's py_write_table (adapters.sql). Upstream ignores `temporary`
  and writes a Python model's incremental batch into a persistent table of the default
  catalog, so every incremental run wrote the vectors twice to disk (batch, then
  target) and, on the postgres target, could leave the batch table behind. Here a
  temporary batch goes to a connection-local TEMP table (spilled to disk by DuckDB
  only past memory_limit); everything else behaves as upstream.
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
    {%- if temporary %}
    con.execute('create temporary table {{ relation.include(database=false, schema=false) }} as select * from ' + tmp_name)
    {%- else %}
    con.execute('create table {{ relation }} as select * from ' + tmp_name)
    {%- endif %}
    con.unregister(tmp_name)
{% endmacro %}
