"""Shared fixtures: real dbt invocations (the CLI, in a subprocess, as users run it)
against real DuckDB files in a temporary directory."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).with_name("dbt")


def _load_demo_data():
    spec = importlib.util.spec_from_file_location(
        "demo_data", PROJECT_DIR / "scripts" / "demo_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo_data = _load_demo_data()


@dataclass
class DbtResult:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class DuckDbProject:
    """One DuckDB file plus the means to run this dbt project against it."""

    db_path: Path
    work_dir: Path

    def _invocation(self, args, vars: dict | None, env: dict | None) -> tuple[list, dict]:
        command = [str(DBT), *args, "--project-dir", str(PROJECT_DIR)]
        command += ["--profiles-dir", str(PROFILES_DIR)]
        if vars is not None:
            command += ["--vars", json.dumps(vars)]
        run_env = {
            **os.environ,
            "PORTFOLIO_DUCKDB_PATH": str(self.db_path),
            "DBT_TARGET_PATH": str(self.work_dir / "target"),
            "DBT_LOG_PATH": str(self.work_dir / "logs"),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **(env or {}),
        }
        return command, run_env

    def dbt(self, *args: str, vars: dict | None = None, env: dict | None = None) -> DbtResult:
        command, run_env = self._invocation(args, vars, env)
        done = subprocess.run(
            command, cwd=PROJECT_DIR, env=run_env, capture_output=True, text=True, timeout=600
        )
        return DbtResult(done.returncode, done.stdout + done.stderr)

    def start(self, *args: str, vars: dict | None = None, env: dict | None = None):
        """dbt in the background, in a process group of its own (for os.killpg)."""
        command, run_env = self._invocation(args, vars, env)
        return subprocess.Popen(
            command, cwd=PROJECT_DIR, env=run_env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip

    def run(self, vars: dict | None = None, *extra: str) -> DbtResult:
        return self.dbt("run", "--select", "portfolio_embeddings", *extra, vars=vars)

    def query(self, sql: str, params=None) -> list[tuple]:
        with duckdb.connect(str(self.db_path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def execute(self, sql: str) -> None:
        with duckdb.connect(str(self.db_path)) as con:
            con.execute(sql)


# The tests run against the shipped example profile, never a developer's profiles.yml.
PROFILES_DIR = Path(tempfile.mkdtemp(prefix="pe-profiles-"))
shutil.copy(PROJECT_DIR / "profiles.example.yml", PROFILES_DIR / "profiles.yml")


def make_project(tmp_path: Path, **demo_kwargs) -> DuckDbProject:
    project = DuckDbProject(db_path=tmp_path / "portfolio.duckdb", work_dir=tmp_path)
    if demo_kwargs:
        demo_data.create_reports(str(project.db_path), **demo_kwargs)
    return project


SMALL_DEMO = dict(portfolios=40, dates=["2024-11-30", "2024-12-31", "2025-01-31"], seed=11)


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory) -> DuckDbProject:
    """A small demo file after one successful `dbt run`."""
    project = make_project(tmp_path_factory.mktemp("demo"), **SMALL_DEMO)
    result = project.run()
    assert result.ok, result.output
    return project
