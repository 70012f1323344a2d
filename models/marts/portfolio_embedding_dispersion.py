"""portfolio_embedding_dispersion: per date, the number of portfolio vectors and their
mean distance to the date's centroid, recomputed for the dates whose vectors changed
(portfolio_embeddings.drift)."""

from portfolio_embeddings.drift import dispersion_rows
from portfolio_embeddings.vector_reads import is_true


def model(dbt, session):
    return dispersion_rows(
        session,
        numeric_sql=dbt.ref("numeric_window_embeddings").sql_query(),
        stored_sql=f"select * from {dbt.this}",
        model_id=dbt.config.meta_get("model_id"),
        rebuild=is_true(dbt.config.meta_get("rebuild")),
    )
