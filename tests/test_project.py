"""project.locate: dbt's own answer for where the tables are, memoised, on a copy of the
project (real dbt parses, no mocks)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import PROFILES_DIR, PROJECT_DIR

from portfolio_embeddings.project import locate

OUTPUT_SCHEMA_DEFAULT = "'public' if target.name == 'postgres' else target.schema"


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    """This project's dbt files in a folder of their own, with their own target/ and logs/."""
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(PROJECT_DIR / "dbt_project.yml", copy)
    for folder in ("models", "macros", "seeds"):
        shutil.copytree(PROJECT_DIR / folder, copy / folder)
    for name in [n for n in os.environ if n.startswith(("PORTFOLIO_", "DBT_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DBT_PROFILES_DIR", str(PROFILES_DIR))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    monkeypatch.setenv("PORTFOLIO_DUCKDB_PATH", str(tmp_path / "risk.duckdb"))
    return copy


def located_without_dbt(project_dir) -> dict:
    """locate() in a fresh process: its answer, and whether it had to import dbt."""
    code = (
        "import json, sys, dataclasses\n"
        "from pathlib import Path\n"
        "from portfolio_embeddings.project import locate\n"
        f"found = locate('dev', Path({str(project_dir)!r}))\n"
        "print(json.dumps({'schema': found.relations['numeric_window_embeddings'].schema,\n"
        "                  'dbt_imported': 'dbt' in sys.modules}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    return json.loads(done.stdout)


def test_the_answer_is_memoised_and_follows_env_vars_and_dbt_project_yml(
    project_copy, monkeypatch, tmp_path
):
    first = locate("dev", project_copy)
    numeric = first.relations["numeric_window_embeddings"]
    assert (numeric.database, numeric.schema) == ("risk", "main")
    assert numeric.relation_name == '"risk"."main"."numeric_window_embeddings"'
    assert first.relations["portfolio_risk_reports"].schema == "main"
    assert first.path == str(tmp_path / "risk.duckdb")
    assert located_without_dbt(project_copy) == {"schema": "main", "dbt_imported": False}

    monkeypatch.setenv("PORTFOLIO_OUTPUT_SCHEMA", "analytics")
    moved = locate("dev", project_copy)
    assert moved.relations["numeric_window_embeddings"].schema == "analytics"
    assert moved.relations["joint_embeddings"].schema == "analytics"
    assert moved.relations["portfolio_risk_reports"].schema == "main"  # a source: its own var
    assert located_without_dbt(project_copy) == {"schema": "analytics", "dbt_imported": False}

    monkeypatch.delenv("PORTFOLIO_OUTPUT_SCHEMA")
    config = project_copy / "dbt_project.yml"
    assert OUTPUT_SCHEMA_DEFAULT in config.read_text()
    config.write_text(config.read_text().replace(OUTPUT_SCHEMA_DEFAULT, "'reporting'"))
    assert locate("dev", project_copy).relations["numeric_window_embeddings"].schema == (
        "reporting"
    )
    assert located_without_dbt(project_copy)["schema"] == "reporting"


def test_a_password_in_an_attachment_url_stays_out_of_the_memo(project_copy, monkeypatch, tmp_path):
    url = "postgresql://writer:s3cr%40t@db.example:5433/runtime"
    monkeypatch.setenv("RUNTIME_DATABASE_URL", url)
    found = locate("postgres", project_copy)
    assert found.relations["numeric_window_embeddings"].relation_name == (
        '"historical"."public"."numeric_window_embeddings"'
    )
    assert found.relations["portfolio_risk_reports"].database == "runtime"
    assert found.attachments["historical"].path == url  # HISTORICAL_DATABASE_URL's default
    memo = (tmp_path / "target" / "portfolio_embeddings_cli" / "postgres.json").read_text()
    assert "s3cr" not in memo and "RUNTIME_DATABASE_URL" in memo
    assert locate("postgres", project_copy) == found
