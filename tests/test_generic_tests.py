"""The generic tests of macros/generic_tests/, proven by the integration project
integration_tests/ (after dbt-utils): each one must pass on good rows and fail, with
exactly one failing row, on the good rows plus one bad row.

One `dbt deps` and one `dbt build` of that project (it installs this project as a local
package, so the real macros run), against a DuckDB file in a temporary directory. What
the YAML of integration_tests/ declares is read here independently of dbt, so that a
test that dbt silently stops running is caught."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
INTEGRATION_DIR = PROJECT_DIR / "integration_tests"
INTEGRATION_PACKAGE = "portfolio_embeddings_integration_tests"
PACKAGE = "portfolio_embeddings"
DBT = Path(sys.executable).with_name("dbt")

GENERIC_TESTS = (
    "at_most",
    "byte_length",
    "column_types",
    "float32_vector_is_finite",
    "is_json_object",
    "no_jump",
    "one_value_per_group",
    "unique_combination_of_columns",
)
EXPECT_FAILURE = "expect_failure"


@dataclass(frozen=True)
class DeclaredTest:
    name: str
    generic: str  # as written in the YAML, e.g. portfolio_embeddings.byte_length
    tags: tuple[str, ...]
    path: str

    @property
    def expect_failure(self) -> bool:
        return EXPECT_FAILURE in self.tags


def _declared_tests() -> dict[str, DeclaredTest]:
    """Every data test in the YAML of integration_tests/models and /seeds, by name."""
    declared: dict[str, DeclaredTest] = {}
    paths = sorted(
        path for folder in ("models", "seeds") for path in (INTEGRATION_DIR / folder).rglob("*.yml")
    )
    for path in paths:
        document = yaml.safe_load(path.read_text()) or {}
        for node in (document.get("models") or []) + (document.get("seeds") or []):
            entries = list(node.get("data_tests") or [])
            for column in node.get("columns") or []:
                entries += column.get("data_tests") or []
            for entry in entries:
                where = path.relative_to(INTEGRATION_DIR)
                assert isinstance(entry, dict) and len(entry) == 1, f"{where}: {entry!r}"
                ((generic, spec),) = entry.items()
                assert isinstance(spec, dict) and spec.get("name"), f"{where}: {generic}: no name"
                name = spec["name"]
                assert name not in declared, f"{where}: two tests named {name}"
                tags = tuple((spec.get("config") or {}).get("tags") or ())
                declared[name] = DeclaredTest(name, generic, tags, str(where))
    return declared


DECLARED = _declared_tests()


@dataclass
class IntegrationRun:
    output: str
    results: dict[str, dict]  # run_results.json's results by node name
    nodes: dict[str, dict]  # manifest.json's nodes by node name (this project's only)


@pytest.fixture(scope="module")
def integration_run(tmp_path_factory) -> IntegrationRun:
    work_dir = tmp_path_factory.mktemp("integration")
    env = {
        **os.environ,
        "PORTFOLIO_INTEGRATION_DUCKDB_PATH": str(work_dir / "integration.duckdb"),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
    }

    def dbt(*args: str) -> tuple[int, str]:
        command = [str(DBT), *args, "--project-dir", str(INTEGRATION_DIR)]
        command += ["--profiles-dir", str(INTEGRATION_DIR)]
        done = subprocess.run(
            command, cwd=INTEGRATION_DIR, env=env, capture_output=True, text=True, timeout=300
        )
        return done.returncode, done.stdout + done.stderr

    returncode, output = dbt("deps")
    assert returncode == 0, output
    # Only this project's nodes: the parent project's models need its source table.
    returncode, output = dbt("build", "--select", f"package:{INTEGRATION_PACKAGE}")
    run_results = work_dir / "target" / "run_results.json"
    if returncode == 2 or not run_results.exists():
        pytest.fail(
            "dbt build of integration_tests/ stopped before running its nodes (an "
            f"on-run-start hook of the parent project, run in packages too?):\n{output}"
        )
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text())
    nodes = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["package_name"] == INTEGRATION_PACKAGE
    }
    by_id = {node["unique_id"]: name for name, node in nodes.items()}
    results = {
        by_id[result["unique_id"]]: result
        for result in json.loads(run_results.read_text())["results"]
        if result["unique_id"] in by_id
    }
    return IntegrationRun(output, results, nodes)


def test_the_yaml_proves_every_generic_test_both_ways():
    """Static: each generic test has a test that must pass and one that must fail, and
    the names follow the convention of integration_tests/README.md."""
    macros = INTEGRATION_DIR.parent / "macros" / "generic_tests"
    assert set(GENERIC_TESTS) == {path.stem for path in macros.glob("*.sql")}
    for test in DECLARED.values():
        assert test.name.startswith(f"{EXPECT_FAILURE}__") == test.expect_failure, test
    for generic in GENERIC_TESTS:
        tests = [test for test in DECLARED.values() if test.generic == f"{PACKAGE}.{generic}"]
        assert any(not test.expect_failure for test in tests), f"no passing {generic} test"
        assert any(test.expect_failure for test in tests), f"no failing {generic} test"
    assert {"expect_failure__column_types__wrong_type"} <= DECLARED.keys()
    assert {"expect_failure__column_types__missing_column"} <= DECLARED.keys()


def test_builds_every_seed_and_model(integration_run):
    expected = {path.stem for path in (INTEGRATION_DIR / "seeds").glob("*.csv")}
    expected |= {path.stem for path in (INTEGRATION_DIR / "models").glob("*.sql")}
    built = {
        name: result["status"]
        for name, result in integration_run.results.items()
        if integration_run.nodes[name]["resource_type"] in ("seed", "model")
    }
    assert built == dict.fromkeys(expected, "success"), integration_run.output


def test_runs_exactly_the_declared_tests(integration_run):
    ran = {
        name
        for name in integration_run.results
        if integration_run.nodes[name]["resource_type"] == "test"
    }
    assert ran == DECLARED.keys()


def test_runs_the_parent_projects_macros(integration_run):
    for name, test in DECLARED.items():
        node = integration_run.nodes.get(name)
        assert node is not None, f"{name} is not in the manifest"
        generic = node["test_metadata"]["name"]
        assert f"{PACKAGE}.{generic}" == test.generic
        assert node["test_metadata"]["namespace"] == PACKAGE
        assert f"macro.{PACKAGE}.test_{generic}" in node["depends_on"]["macros"], name


@pytest.mark.parametrize("name", list(DECLARED))
def test_outcome(integration_run, name):
    """A test of good rows passes; an expect_failure test fails on its one bad row."""
    result = integration_run.results.get(name)
    assert result is not None, f"{name} did not run"
    outcome = (result["status"], result["failures"])
    expected = ("fail", 1) if DECLARED[name].expect_failure else ("pass", 0)
    assert outcome == expected, result["message"]
