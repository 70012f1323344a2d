"""portfolio_reference_distances: every stored state's cosine similarity, Euclidean
distance and rank (within its date) to each reference prototype, recomputed per
(reference, date) where not current (portfolio_embeddings.references)."""

from portfolio_embeddings.references import distance_rows
from portfolio_embeddings.vector_reads import is_true


def model(dbt, session):
    return distance_rows(
        session,
        prototypes_sql=dbt.ref("portfolio_reference_prototypes").sql_query(),
        numeric_sql=dbt.ref("numeric_window_embeddings").sql_query(),
        stored_sql=f"select * from {dbt.this}",
        model_id=dbt.config.meta_get("model_id"),
        rebuild=is_true(dbt.config.meta_get("rebuild")),
    )
