"""Which engine a dbt Python model runs on, told by its session object, without
importing either engine (a Spark cluster has no duckdb, the embedded target no pyspark)."""

from __future__ import annotations


def is_spark(session) -> bool:
    """True for a SparkSession (dbt-spark, dbt-databricks), False for DuckDB's connection.

    >>> is_spark(object())
    False
    """
    return type(session).__module__.split(".")[0] == "pyspark"
