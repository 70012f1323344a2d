"""The `local_session` submission: a Python model's compiled code run in this process's
SparkSession, the one dbt-spark's `method: session` runs the SQL in."""

from __future__ import annotations

from typing import Any

from dbt.adapters.base import PythonJobHelper

SUBMISSION_METHOD = "local_session"


class LocalSessionJobHelper(PythonJobHelper):
    """Runs a compiled Python model with `spark` bound to dbt's SparkSession.

    The code is what a Databricks job would run: the model, dbt's `dbtObj` and the
    materialization's tail, which writes the model's result.
    """

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
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
