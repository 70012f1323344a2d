"""dbt-duckdb plugin: keep database passwords out of dbt's logs and artifacts.

DuckDB's error for a failed ATTACH quotes the whole connection string, password
included, and dbt writes that error to the console, logs/dbt.log and target/. dbt
scrubs the value of every environment variable named DBT_ENV_SECRET_*, so before any
connection is opened this plugin publishes each attachment's password under such a
name. Enabled in profiles.example.yml:

    plugins:
      - module: portfolio_embeddings.dbt_plugin
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from portfolio_embeddings.credentials import passwords_in


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        for i, attachment in enumerate(getattr(creds, "attach", None) or []):
            path = attachment.get("path", "") if isinstance(attachment, dict) else attachment.path
            for j, password in enumerate(passwords_in(path or "")):
                os.environ[f"DBT_ENV_SECRET_PORTFOLIO_ATTACH_{i}_{j}"] = password
