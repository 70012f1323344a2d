"""Put a DuckDB file's portfolio_risk_reports into the `spark` target's catalog, as the
source table main.portfolio_risk_reports (JSON columns as JSON text, created_at as a
timestamp), for development, tests and benchmarks of the Spark target:

    python -m portfolio_embeddings.spark_source --db portfolio_embeddings.duckdb

The SparkSession is the one the profile's target describes (its server_side_parameters,
as dbt-spark's session method builds it), so dbt finds the table afterwards. Run it
while no dbt process holds the local Derby metastore (one process at a time).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import duckdb

from portfolio_embeddings.project import PROJECT_DIR, profiles_dir

SOURCE_TABLE = "main.portfolio_risk_reports"
JSON_COLUMNS = (
    "risk_metrics",
    "scenario_pnl",
    "exposures_by_sector",
    "exposures_by_factor",
    "metadata",
)


def spark_session(target: str = "spark", project_dir: Path = PROJECT_DIR):
    """The SparkSession of a dbt-spark `method: session` target of the profile."""
    from dbt.config.profile import read_profile
    from dbt.config.project import load_raw_project
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context
    from pyspark.sql import SparkSession

    set_invocation_context(dict(os.environ))  # what dbt's env_var reads
    renderer = ProfileRenderer({})
    profile_name = renderer.render_value(load_raw_project(str(project_dir))["profile"])
    outputs = read_profile(str(profiles_dir(project_dir)))[profile_name]["outputs"]
    parameters = renderer.render_data(outputs[target].get("server_side_parameters", {}))
    builder = SparkSession.builder.enableHiveSupport()
    for parameter, value in {**parameters, "spark.sql.ansi.enabled": "false"}.items():
        builder = builder.config(parameter, str(value))
    return builder.getOrCreate()


def load_reports(spark, duckdb_path: str, table: str = SOURCE_TABLE) -> int:
    """Replace `table` by the reports of the DuckDB file; returns their number."""
    with tempfile.TemporaryDirectory(prefix="pe-spark-source-") as scratch:
        parquet = str(Path(scratch) / "reports.parquet")
        casts = ", ".join(f"cast({c} as varchar) as {c}" for c in JSON_COLUMNS)
        with duckdb.connect(duckdb_path, read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")
            con.execute(
                f"copy (select * replace ({casts}, cast(created_at as timestamp) as created_at) "
                f"from main.portfolio_risk_reports) to '{parquet}' (format parquet)"
            )
        spark.sql(f"create database if not exists {table.split('.')[0]}")
        spark.read.parquet(parquet).write.mode("overwrite").format("parquet").saveAsTable(table)
    return spark.table(table).count()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="DuckDB file with main.portfolio_risk_reports")
    parser.add_argument("--target", default="spark", help="the profile's Spark target")
    args = parser.parse_args(argv)
    spark = spark_session(args.target)
    spark.sparkContext.setLogLevel("ERROR")
    print(f"{load_reports(spark, args.db)} reports in {SOURCE_TABLE}")
    spark.stop()


if __name__ == "__main__":
    main()
