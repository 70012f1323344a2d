"""dbt with one more Python submission method for dbt-spark: `local_session`, which runs
a Python model's compiled code in this process's SparkSession, the one dbt-spark's
`method: session` runs the SQL in. It stands in for the Databricks job runner on the
local `spark` target.

dbt-spark submits Python models only through the Databricks REST API
(`all_purpose_cluster`, `job_cluster`); with `method: session` they fail with
"Databricks cluster_id is required". dbt-spark issue 415 (Python models on OSS Spark) is
open and the session helper of its pull request 1063 is not merged, so this module
registers the same small helper and then runs dbt's own command line:

    python -m portfolio_embeddings.local_spark_job run --select portfolio_embeddings --target spark

The compiled code is exactly what a Databricks job would run: the model, dbt's
`dbtObj`, and the materialization's tail, with `spark` bound to the session.
"""

from __future__ import annotations

import os
import sys

from dbt.adapters.base import PythonJobHelper

SUBMISSION_METHOD = "local_session"


class LocalSessionJobHelper(PythonJobHelper):
    """Runs a compiled Python model in the SparkSession of dbt-spark's session method."""

    def __init__(self, parsed_model: dict, credentials) -> None:
        self.model_name = f"{parsed_model['schema']}.{parsed_model['alias']}"
        self.server_side_parameters = dict(credentials.server_side_parameters)

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        # dbt-spark's session cursor builds its session so; getOrCreate returns that one
        builder = SparkSession.builder.enableHiveSupport()
        for parameter, value in self.server_side_parameters.items():
            builder = builder.config(parameter, value)
        namespace = {"spark": builder.getOrCreate(), "__name__": "__dbt_python_model__"}
        exec(compile(compiled_code, f"<dbt Python model {self.model_name}>", "exec"), namespace)


def register() -> None:
    """Add `local_session` to dbt-spark's submission helpers (once)."""
    from dbt.adapters.spark.impl import SparkAdapter

    helpers = SparkAdapter.python_submission_helpers.fget
    if getattr(helpers, "with_local_session", False):
        return

    def with_local_session(self):
        return {**helpers(self), SUBMISSION_METHOD: LocalSessionJobHelper}

    with_local_session.with_local_session = True
    SparkAdapter.python_submission_helpers = property(with_local_session)


def main(argv: list[str] | None = None) -> None:
    """dbt's command line, with local_session registered."""
    # Spark's Python workers run this interpreter (the venv with python_encoders)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    register()
    from dbt.cli.main import cli

    cli.main(args=sys.argv[1:] if argv is None else argv, prog_name="dbt")


if __name__ == "__main__":
    main()
