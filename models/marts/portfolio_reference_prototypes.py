"""portfolio_reference_prototypes: per reference of the seed reference_states and per
model_id, the mean of its states' vectors (portfolio_embeddings.references), written by
the keyed_table materialization. An unresolvable reference fails here, naming it."""

import duckdb

from portfolio_embeddings.references import prototype_rows
from portfolio_embeddings.vector_reads import is_true


def model(dbt, session):
    try:
        seed_sql = dbt.ref("reference_states").sql_query()
    except duckdb.CatalogException:
        seed_sql = None  # not seeded: the stored prototypes stay (the pre-hook warns)
    return prototype_rows(
        session,
        seed_sql=seed_sql,
        numeric_sql=dbt.ref("numeric_window_embeddings").sql_query(),
        stored_sql=f"select * from {dbt.this}",
        model_id=dbt.config.meta_get("model_id"),
        rebuild=is_true(dbt.config.meta_get("rebuild")),
    )
