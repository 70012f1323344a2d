"""The command line as a user meets it: run as a separate process from a folder outside
the repository, on real DuckDB files and real dbt runs. Shared helpers for the other
tests/test_cli_*.py files; here the options, the help, map and the tables' location."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import PROFILES_DIR, PROJECT_DIR, SMALL_DEMO, make_project

MODULES = {
    "portfolio-embeddings": "portfolio_embeddings.cli",
    "backfill_numeric_portfolio_embeddings": "portfolio_embeddings.backfill",
}


def cli_env(project, env: dict | None = None) -> dict:
    python_path = [str(PROJECT_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(python_path),  # this checkout's package, installed or not
        "PORTFOLIO_DUCKDB_PATH": str(project.db_path),
        "DBT_PROFILES_DIR": str(PROFILES_DIR),
        "DBT_TARGET_PATH": str(project.work_dir / "target"),
        "DBT_LOG_PATH": str(project.work_dir / "logs"),
        "DO_NOT_TRACK": "1",
        "PORTFOLIO_VECTOR_CACHE": str(project.work_dir / "vector-cache"),
        **(env or {}),
    }


def elsewhere(project) -> Path:
    """A current folder outside the repository, where nothing may appear."""
    folder = project.work_dir / "cwd"
    folder.mkdir(exist_ok=True)
    return folder


def command(program: str, *args: str) -> list[str]:
    """The console script `program` as `python -m`, so that it is this checkout's code."""
    return [sys.executable, "-m", MODULES[program], *args]


def cli(project, *args, program="portfolio-embeddings", env=None):
    return subprocess.run(
        command(program, *args), cwd=elsewhere(project), env=cli_env(project, env),
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def assert_one_line_error(done, *fragments: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr


def test_the_console_scripts_are_these_functions():
    text = (PROJECT_DIR / "pyproject.toml").read_text()
    section = text.split("[project.scripts]\n", 1)[1].split("\n[", 1)[0]
    scripts = dict(re.findall(r'^(\S+) = "([^"]+)"$', section, flags=re.MULTILINE))
    assert scripts == {
        "portfolio-embeddings": "portfolio_embeddings.cli:main",
        "backfill_numeric_portfolio_embeddings": "portfolio_embeddings.cli:backfill_main",
    }


def test_every_option_of_every_command_has_a_sentence_and_every_command_examples():
    from portfolio_embeddings.cli import COMMANDS, build_parser

    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    assert set(subparsers.choices) == {
        "backfill",
        "neighbors",
        "explain",
        "show",
        "map",
        "distances",
        "fit-scales",
    }
    assert len(subparsers.choices) == len(COMMANDS)
    for name, sub in subparsers.choices.items():
        assert sub.epilog.startswith("examples:\n  "), name
        for action in sub._actions:
            assert action.help and len(action.help.split()) >= 3, (name, action.option_strings)


def test_help_from_another_folder(tmp_path):
    project = make_project(tmp_path)
    for program, args in [("portfolio-embeddings", ["--help"]),
                          ("portfolio-embeddings", ["explain", "--help"]),
                          ("backfill_numeric_portfolio_embeddings", ["--help"])]:  # fmt: skip
        done = cli(project, *args, program=program)
        assert done.returncode == 0, done.stderr
        assert "usage:" in done.stdout
    assert "examples:" in done.stdout and "--portfolio-id ID" in done.stdout
    assert "the old script" in done.stdout  # --limit's default is the old script's


def test_user_mistakes_are_one_line_and_exit_2(built_demo):
    for args, fragments in [
        (["neighbors", "--portfolio-id", "P00001", "--as-of", "2025-02-30"],
         ["expected a date YYYY-MM-DD, got '2025-02-30'"]),
        (["neighbors", "--portfolio-id", "P00001", "--as-of", "2025-01-31", "--k", "0"],
         ["expected a positive integer"]),
        (["show", "--model-id", "nope"],
         ["unknown model_id 'nope'", "joint-portfolio-core-v1, num-portfolio-core-v1"]),
        (["show", "--as-of", "2025-01-31", "--start", "2025-01-01"], ["not both"]),
        (["map", "--as-of", "2025-01-31", "--out", "/missing/dir/x.png"],
         ["no folder /missing/dir"]),
        (["show", "--as-of", "2030-01-31"],
         ["no PORTFOLIO vectors on 2030-01-31; nearest dates with num-portfolio-core-v1 "
          "vectors: 2025-01-31, 2024-12-31, 2024-11-30"]),
        (["show", "--project-dir", str(built_demo.work_dir)],
         ["is not the portfolio_embeddings dbt project"]),
        (["neighbors", "--portfolio-id", "P00001", "--as-of", "2025-01-31"],
         ["no DuckDB file at"]),
    ]:  # fmt: skip
        missing_file = {"PORTFOLIO_DUCKDB_PATH": str(built_demo.work_dir / "absent.duckdb")}
        env = missing_file if "no DuckDB file at" in fragments else None
        assert_one_line_error(cli(built_demo, *args, env=env), *fragments)
    assert list(elsewhere(built_demo).iterdir()) == []
    assert not (built_demo.work_dir / "absent.duckdb").exists()


def test_map_writes_a_png_of_the_expected_size(built_demo):
    from PIL import Image

    from portfolio_embeddings.maps import DPI, FIGSIZE

    out = built_demo.work_dir / "map.png"
    done = cli(
        built_demo, "map", "--as-of", "2024-12-31", "--highlight", "P00003", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    with Image.open(out) as image:
        image.load()  # decodes the whole file
        assert image.format == "PNG"
        assert image.size == (FIGSIZE[0] * DPI, FIGSIZE[1] * DPI)
        assert len(set(image.convert("RGB").getdata())) > 10  # points were drawn
    missing = cli(built_demo, "map", "--as-of", "2030-01-31", "--out", str(out))
    assert_one_line_error(
        missing,
        "no num-portfolio-core-v1 vectors on 2030-01-31",
        "nearest dates with num-portfolio-core-v1 vectors: 2025-01-31",
    )


def test_the_tables_are_where_the_project_config_puts_them(tmp_path):
    """PORTFOLIO_OUTPUT_SCHEMA moves the outputs (dbt_project.yml's +schema); every
    command follows, and without it they look in main again."""
    project = make_project(tmp_path, **SMALL_DEMO)
    elsewhere_schema = {"PORTFOLIO_OUTPUT_SCHEMA": "analytics"}
    done = cli(project, "backfill", "--as-of", "2025-01-31", "--limit", "5", env=elsewhere_schema)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "encoded:                 5 (5 new, 0 replaced)" in done.stdout
    assert project.query(
        "select count(*) from analytics.numeric_window_embeddings where vector is not null"
    ) == [(5,)]
    assert project.query(
        "select count(*) from information_schema.tables "
        "where table_schema = 'main' and table_name = 'numeric_window_embeddings'"
    ) == [(0,)]

    shown = cli(project, "show", "--as-of", "2025-01-31", env=elsewhere_schema)
    assert shown.returncode == 0, shown.stderr
    assert [line.split(",")[1] for line in shown.stdout.splitlines()[1:]] == [
        "P00001", "P00002", "P00003", "P00004", "P00005",
    ]  # fmt: skip
    query = ["neighbors", "--portfolio-id", "P00003", "--as-of", "2025-01-31", "--k", "5"]
    near = cli(project, *query, env=elsewhere_schema)
    assert near.returncode == 0, near.stderr
    rows = [line.split(",") for line in near.stdout.splitlines()[1:]]
    assert sorted(r[2] for r in rows) == ["P00001", "P00002", "P00004", "P00005"]
    assert cli(project, *query, "--no-cache", env=elsewhere_schema).stdout == near.stdout

    out = tmp_path / "map.png"
    drawn = cli(project, "map", "--as-of", "2025-01-31", "--out", str(out), env=elsewhere_schema)
    assert drawn.returncode == 0, drawn.stderr

    not_there = cli(project, "show", "--as-of", "2025-01-31")
    assert_one_line_error(not_there, '"main"."numeric_window_embeddings"', "run the pipeline")
