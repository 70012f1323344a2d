"""dbt-spark's adapter with the `local_session` Python submission."""

from __future__ import annotations

from dbt.adapters.base import PythonJobHelper
from dbt.adapters.spark import SparkAdapter
from dbt.adapters.sparklocal.connections import SparkLocalConnectionManager
from dbt.adapters.sparklocal.python_submissions import SUBMISSION_METHOD, LocalSessionJobHelper


class SparkLocalAdapter(SparkAdapter):
    """SparkAdapter (type `sparklocal`) whose Python models can run in the local session."""

    ConnectionManager = SparkLocalConnectionManager

    @property
    def python_submission_helpers(self) -> dict[str, type[PythonJobHelper]]:
        return {**super().python_submission_helpers, SUBMISSION_METHOD: LocalSessionJobHelper}
