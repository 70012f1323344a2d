"""The rows of numeric_window_embeddings and joint_embeddings on Spark (dbt-spark, Databricks).

The same rows as numeric_rows / joint_rows build on DuckDB, byte for byte: the states are
cut into groups of `states_per_group` consecutive state_idx, and each group's features
and states meet in one Arrow call on an executor (cogroup + applyInArrow), where
python_encoders encodes them and numeric_rows.output_batches lays out the rows. Nothing
is collected to the driver; no Python runs per row. A vector depends only on its own
state's features and the card, so the grouping cannot change it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BinaryType,
    DateType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from portfolio_embeddings.numeric_rows import (
    ENTITY_TYPE,
    OUTPUT_SCHEMA,
    feature_batch,
    output_batches,
)
from python_encoders import JointCard, ModelCard, iter_encode

SPARK_OUTPUT_SCHEMA = StructType(
    [
        StructField("entity_type", StringType()),
        StructField("entity_id", StringType()),
        StructField("window_spec", StringType()),
        StructField("as_of_date", DateType()),
        StructField("model_id", StringType()),
        StructField("vector", BinaryType()),
        StructField("vector_ref", StringType()),
        StructField("created_at", TimestampType()),
    ]
)


def spark_numeric_rows(
    states: DataFrame,
    entries: DataFrame,
    card: ModelCard,
    *,
    states_per_group: int,
    chunk_rows: int,
) -> DataFrame:
    """The output rows (numeric_rows.OUTPUT_SCHEMA's columns) of the states in `states`
    (int_portfolio_states_to_encode) from the usable entries of `entries`
    (int_portfolio_feature_entries): a vector per state with a usable feature, a
    tombstone (null vector) per state without one. Lazy: nothing runs until written."""
    created_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)  # one per run
    group = F.floor(F.col("state_idx") / states_per_group)
    features = entries.where("feature_value is not null").select(
        group.alias("state_group"), "state_idx", "feature_name", "feature_value"
    )
    keys = states.select(
        group.alias("state_group"),
        "state_idx",
        "portfolio_id",
        "as_of_date",
        # the report_id as a JSON string, for window_spec (DuckDB: to_json(report_id))
        F.expr(
            "substring(to_json(array(report_id)), 2, length(to_json(array(report_id))) - 2)"
        ).alias("report_id_json"),
        "source_fingerprint",
    )

    def encode_group(group_features: pa.Table, group_states: pa.Table) -> pa.Table:
        return encoded_group_rows(group_features, group_states, card, chunk_rows, created_at)

    return (
        features.groupBy("state_group")
        .cogroup(keys.groupBy("state_group"))
        .applyInArrow(encode_group, SPARK_OUTPUT_SCHEMA)
    )


def encoded_group_rows(
    features: pa.Table, states: pa.Table, card: ModelCard, chunk_rows: int, created_at
) -> pa.Table:
    """One group's rows: its states in state_idx order, each entry's state located by a
    binary search, encoded as numeric_rows encodes a fetched slice."""
    states = states.sort_by("state_idx")
    state_idx = states.column("state_idx").to_numpy()
    local = np.searchsorted(state_idx, features.column("state_idx").to_numpy())
    batch = feature_batch(
        pa.table(
            {
                "state_idx": pa.array(local.astype(np.int32)),
                "feature_name": features.column("feature_name"),
                "feature_value": features.column("feature_value"),
            }
        ),
        len(state_idx),
    )
    n_features = np.bincount(batch.row_index, minlength=batch.n_rows)
    encoded = (
        (start, n_features[start:stop], block)
        for start, stop, block in iter_encode(card, batch, chunk_rows=chunk_rows)
    )
    batches = list(output_batches(states, encoded, card, created_at))
    return pa.Table.from_batches(batches, schema=OUTPUT_SCHEMA)


def spark_joint_rows(
    numeric: DataFrame, states: DataFrame, card: JointCard, run_model_id: str
) -> DataFrame:
    """joint_rows.joint_embedding_rows on Spark: for each state the run re-encoded, its
    joint row from its numeric row, or a tombstone (null vector) when it has none;
    nothing when the joint card's source is not the run's numeric card."""
    if card.kind != "identity" or len(card.sources) != 1:
        raise ValueError(f"joint card {card.model_id!r}: kind {card.kind!r} is not implemented")
    (source_model,) = card.sources
    follows = source_model == run_model_id and not states.isEmpty()
    source_rows = numeric.where(
        (F.col("entity_type") == ENTITY_TYPE) & (F.col("model_id") == source_model)
    ).select("entity_id", "as_of_date", "model_id", "vector")
    joined = states.alias("states").join(
        source_rows.alias("numeric"),
        (F.col("numeric.entity_id") == F.col("states.portfolio_id"))
        & (F.col("numeric.as_of_date") == F.col("states.as_of_date")),
        "left",
    )
    # entity_scope as DuckDB's json_object writes it: compact, keys in this order
    scope = F.to_json(
        F.struct(
            F.lit(ENTITY_TYPE).alias("entity_type"),
            F.col("states.portfolio_id").alias("portfolio_id"),
            F.date_format("states.as_of_date", "yyyy-MM-dd").alias("as_of_date"),
            F.col("numeric.model_id").alias("source_model_id"),
            F.col("states.source_fingerprint").alias("source_fingerprint"),
            F.lit(card.spec_hash).alias("joint_spec_hash"),
        )
    )
    tombstone_scope = F.to_json(F.struct(F.col("states.portfolio_id").alias("portfolio_id")))
    return joined.where(F.lit(follows)).select(
        F.lit(card.joint_type).alias("joint_type"),
        F.col("states.as_of_date").alias("as_of_date"),
        F.when(F.col("numeric.vector").isNull(), tombstone_scope)
        .otherwise(scope)
        .alias("entity_scope"),
        F.lit(card.model_id).alias("model_id"),
        F.col("numeric.vector").alias("vector"),
        F.lit(None).cast("string").alias("vector_ref"),
        F.current_timestamp().alias("created_at"),
    )
