"""numeric_window_embeddings: one vector per selected portfolio state with a usable
feature. The rows are built by portfolio_embeddings.numeric_rows (the numerics in
python_encoders) and written by the shared_table materialization. It reads the
classified entries and keeps the usable ones, the rows of int_portfolio_features:
through that view DuckDB would classify every member twice (docs/performance.md).
On Spark (dbt-spark, Databricks) each group of states is encoded on an executor
(portfolio_embeddings.spark_rows, docs/spark.md)."""

from portfolio_embeddings.engine import is_spark
from portfolio_embeddings.numeric_rows import numeric_embedding_rows
from python_encoders import get_card


def model(dbt, session):
    card = get_card(dbt.config.meta_get("model_id"))
    chunk_rows = int(dbt.config.meta_get("chunk_rows"))
    if is_spark(session):
        from portfolio_embeddings.spark_rows import spark_numeric_rows

        return spark_numeric_rows(
            states=dbt.ref("int_portfolio_states_to_encode"),
            entries=dbt.ref("int_portfolio_feature_entries"),
            card=card,
            states_per_group=chunk_rows,
            chunk_rows=chunk_rows,
        )
    return numeric_embedding_rows(
        session,
        states=dbt.ref("int_portfolio_states_to_encode"),
        entries_sql=dbt.ref("int_portfolio_feature_entries").sql_query(),
        card=card,
        chunk_rows=chunk_rows,
        states_per_fetch=int(dbt.config.meta_get("states_per_fetch")),
    )
