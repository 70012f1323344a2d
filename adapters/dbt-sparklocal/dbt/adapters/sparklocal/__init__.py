"""dbt adapter `sparklocal`: dbt-spark on a local SparkSession, Python models included.

dbt-spark runs SQL in a local SparkSession (`method: session`) but submits Python models
only through the Databricks REST API (dbt-spark issue 415). This adapter is dbt-spark's,
plus the submission method `local_session`, which runs a model's compiled code in that
session. It depends on the `spark` plugin, so dispatch and materializations fall back
from `sparklocal__` to `spark__` to `default__`.
"""

from dbt.adapters.base import AdapterPlugin
from dbt.adapters.sparklocal.connections import SparkLocalCredentials
from dbt.adapters.sparklocal.impl import SparkLocalAdapter
from dbt.include import sparklocal

Plugin = AdapterPlugin(
    adapter=SparkLocalAdapter,  # type: ignore[arg-type]
    credentials=SparkLocalCredentials,
    include_path=sparklocal.PACKAGE_PATH,
    dependencies=["spark"],
)
