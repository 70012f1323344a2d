"""dbt-spark's credentials and connection manager under the type name `sparklocal`."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from dbt.adapters.contracts.connection import Connection
from dbt.adapters.spark.connections import (
    SparkConnectionManager,
    SparkConnectionMethod,
    SparkCredentials,
)
from dbt_common.exceptions import DbtRuntimeError

# no underscore: dbt imports dbt.adapters.<adapter class name before "Adapter", lowercased>
# (BaseAdapter.get_adapter_run_info), so the type, the package and the class name agree
TYPE = "sparklocal"


@dataclass
class SparkLocalCredentials(SparkCredentials):
    """dbt-spark's credentials; `method` must be `session` (the only local method)."""

    def __post_init__(self) -> None:
        # first: dbt-spark's own checks would ask for another method's extras
        if self.method != SparkConnectionMethod.SESSION:
            raise DbtRuntimeError(
                f"type {TYPE} runs in a local SparkSession: set `method: session`"
                f" (got {self.method}); use type spark for a remote Spark"
            )
        super().__post_init__()

    @property
    def type(self) -> str:
        return TYPE


class SparkLocalConnectionManager(SparkConnectionManager):
    """dbt-spark's connection manager (type `sparklocal`)."""

    TYPE = TYPE

    @classmethod
    def open(cls, connection: Connection) -> Connection:
        # Spark's Python workers default to `python3` on PATH: run dbt's own interpreter
        # (the venv with the models' packages); read once, when the session starts
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        return super().open(connection)
