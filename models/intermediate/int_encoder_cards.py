"""int_encoder_cards: the run's model cards as one row (ids, kinds, spec hashes).

The SQL models compare stored rows with it (was a row made by this card?), and every
model that writes depends on it: an unknown model_id or joint_model_id fails here,
before anything is written."""

from portfolio_embeddings.cards_row import encoder_cards_row
from portfolio_embeddings.engine import is_spark


def model(dbt, session):
    row = encoder_cards_row(dbt.config.meta_get("model_id"), dbt.config.meta_get("joint_model_id"))
    return session.createDataFrame(row) if is_spark(session) else row
