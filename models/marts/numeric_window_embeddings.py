"""numeric_window_embeddings: one vector per selected portfolio state with a usable
feature. The rows are built by portfolio_embeddings.numeric_rows (the numerics in
python_encoders) and written by the shared_table materialization. It reads the
classified entries and keeps the usable ones, the rows of int_portfolio_features:
through that view DuckDB would classify every member twice (docs/performance.md)."""

from portfolio_embeddings.numeric_rows import numeric_embedding_rows
from python_encoders import get_card


def model(dbt, session):
    return numeric_embedding_rows(
        session,
        states=dbt.ref("int_portfolio_states_to_encode"),
        entries_sql=dbt.ref("int_portfolio_feature_entries").sql_query(),
        card=get_card(dbt.config.meta_get("model_id")),
        chunk_rows=int(dbt.config.meta_get("chunk_rows")),
        states_per_fetch=int(dbt.config.meta_get("states_per_fetch")),
    )
