"""joint_embeddings: the portfolio branch of the joint space, written for exactly the
states the numeric model re-encoded (and removed with them). Rows from
portfolio_embeddings.joint_rows, whose vectors the shared_table writer copies from
numeric_window_embeddings (meta vector_from); spark_rows joins them itself on Spark."""

from portfolio_embeddings.engine import is_spark
from python_encoders import get_joint_card


def model(dbt, session):
    card = get_joint_card(dbt.config.meta_get("joint_model_id"))
    states = dbt.ref("int_portfolio_states_to_encode")
    numeric = dbt.ref("numeric_window_embeddings")  # runs first; the vectors' source
    run_model_id = dbt.config.meta_get("model_id")
    # imported per engine: a Spark cluster has no duckdb, the embedded target no pyspark
    if is_spark(session):
        from portfolio_embeddings.spark_rows import spark_joint_rows

        return spark_joint_rows(
            numeric=numeric, states=states, card=card, run_model_id=run_model_id
        )
    from portfolio_embeddings.joint_rows import joint_embedding_rows

    return joint_embedding_rows(states=states, card=card, run_model_id=run_model_id)
