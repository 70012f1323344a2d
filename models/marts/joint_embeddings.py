"""joint_embeddings: the portfolio branch of the joint space, written for exactly the
states the numeric model re-encoded (and removed with them). Rows from
portfolio_embeddings.joint_rows, written by the shared_table materialization."""

from portfolio_embeddings.joint_rows import joint_embedding_rows
from python_encoders import get_joint_card


def model(dbt, session):
    return joint_embedding_rows(
        numeric=dbt.ref("numeric_window_embeddings"),
        states=dbt.ref("int_portfolio_states_to_encode"),
        card=get_joint_card(dbt.config.meta_get("joint_model_id")),
        run_model_id=dbt.config.meta_get("model_id"),
    )
