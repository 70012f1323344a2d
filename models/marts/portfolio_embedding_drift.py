"""portfolio_embedding_drift: each portfolio's step from its previous stored date
(distance and cosine; none on its first date), recomputed where not current
(portfolio_embeddings.drift)."""

from portfolio_embeddings.drift import drift_rows
from portfolio_embeddings.vector_reads import is_true


def model(dbt, session):
    return drift_rows(
        session,
        numeric_sql=dbt.ref("numeric_window_embeddings").sql_query(),
        stored_sql=f"select * from {dbt.this}",
        model_id=dbt.config.meta_get("model_id"),
        rebuild=is_true(dbt.config.meta_get("rebuild")),
    )
