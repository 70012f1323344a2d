"""joint_embeddings: the portfolio branch of the joint space, written for exactly the
states the numeric model re-encoded (and removed with them). Rows from
portfolio_embeddings.joint_rows (spark_rows on Spark), written by the shared_table
materialization."""

from portfolio_embeddings.engine import is_spark
from python_encoders import get_joint_card


def model(dbt, session):
    # imported per engine: a Spark cluster has no duckdb, the embedded target no pyspark
    if is_spark(session):
        from portfolio_embeddings.spark_rows import spark_joint_rows as joint_rows
    else:
        from portfolio_embeddings.joint_rows import joint_embedding_rows as joint_rows
    return joint_rows(
        numeric=dbt.ref("numeric_window_embeddings"),
        states=dbt.ref("int_portfolio_states_to_encode"),
        card=get_joint_card(dbt.config.meta_get("joint_model_id")),
        run_model_id=dbt.config.meta_get("model_id"),
    )
