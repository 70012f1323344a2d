"""dbt-side helpers of portfolio-embeddings (kept apart from python_encoders, which must
import with no dbt present)."""
