"""The command line: backfill (the old script's flags), neighbors, show and map, on real
DuckDB files and real dbt runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import PROFILES_DIR, SMALL_DEMO, make_project

BIN = Path(sys.executable).parent


def cli(project, *args, program="portfolio-embeddings", env=None):
    run_env = {
        **os.environ,
        "PORTFOLIO_DUCKDB_PATH": str(project.db_path),
        "DBT_PROFILES_DIR": str(PROFILES_DIR),
        "DBT_TARGET_PATH": str(project.work_dir / "target"),
        "DBT_LOG_PATH": str(project.work_dir / "logs"),
        "DO_NOT_TRACK": "1",
        "PORTFOLIO_VECTOR_CACHE": str(project.work_dir / "vector-cache"),
        **(env or {}),
    }
    return subprocess.run(
        [str(BIN / program), *args], env=run_env, capture_output=True, text=True, timeout=600
    )


def test_backfill_with_limit_writes_exactly_that_many_rows(tmp_path):
    project = make_project(tmp_path, **SMALL_DEMO)
    done = cli(
        project,
        "--as-of",
        "2025-01-31",
        "--model-id",
        "num-portfolio-core-v1",
        "--limit",
        "3",
        program="backfill_numeric_portfolio_embeddings",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 portfolios encoded on 2025-01-31" in done.stdout
    assert project.query("select entity_id from main.numeric_window_embeddings order by 1") == [
        ("P00001",),
        ("P00002",),
        ("P00003",),
    ]
    module = subprocess.run(
        [sys.executable, "-m", "portfolio_embeddings.backfill", "--help"],
        capture_output=True,
        text=True,
    )
    assert module.returncode == 0 and "--as-of" in module.stdout


def test_backfill_rejects_bad_arguments_without_a_traceback(tmp_path):
    project = make_project(tmp_path)
    for args, message in [
        (["--as-of", "2025-02-30"], "expected a date YYYY-MM-DD"),
        (["--as-of", "2025-01-31", "--limit", "0"], "expected a positive integer"),
        (["--as-of", "2025-01-31", "--model-id", "nope"], "known model_ids: num-portfolio-core-v1"),
    ]:
        done = cli(project, "backfill", *args)
        assert done.returncode == 2 and message in done.stderr
        assert "Traceback" not in done.stderr


def test_neighbors_start_with_itself_and_match_brute_force(built_demo):
    done = cli(
        built_demo, "neighbors", "--portfolio-id", "P00012", "--as-of", "2024-12-31", "--k", "7"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "cosine,euclidean,portfolio_id,as_of_date"
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 7
    assert rows[0][2:] == ["P00012", "2024-12-31"] and float(rows[0][0]) == 1.0
    stored = built_demo.query(
        "select entity_id, cast(as_of_date as varchar), vector from main.numeric_window_embeddings"
    )
    matrix = np.stack([np.frombuffer(v, dtype="<f4") for _, _, v in stored]).astype(np.float64)
    query = matrix[[i for i, r in enumerate(stored) if r[:2] == ("P00012", "2024-12-31")][0]]
    cosine = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))
    best = np.argsort(-cosine, kind="stable")[:7]
    assert [(stored[i][0], stored[i][1]) for i in best] == [(r[2], r[3]) for r in rows]
    np.testing.assert_allclose([float(r[0]) for r in rows], cosine[best], atol=1e-5)
    euclidean = np.linalg.norm(matrix[best] - query, axis=1)
    np.testing.assert_allclose([float(r[1]) for r in rows], euclidean, atol=1e-4)


def test_neighbors_of_a_missing_state_is_a_clear_error(built_demo):
    done = cli(built_demo, "neighbors", "--portfolio-id", "P99999", "--as-of", "2024-12-31")
    assert done.returncode == 2
    assert "no num-portfolio-core-v1 embedding for portfolio 'P99999' on 2024-12-31" in done.stderr


def test_show_lists_one_line_per_vector(built_demo):
    done = cli(
        built_demo,
        "show",
        "--as-of",
        "2024-11-30",
        "--to",
        "2024-12-31",
        "--portfolio-id",
        "P00004",
        "--portfolio-id",
        "P00005",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "as_of_date,portfolio_id,model_id,dim,l2_norm"
    keys = [tuple(line.split(",")[:4]) for line in lines[1:]]
    assert keys == [
        ("2024-11-30", "P00004", "num-portfolio-core-v1", "384"),
        ("2024-11-30", "P00005", "num-portfolio-core-v1", "384"),
        ("2024-12-31", "P00004", "num-portfolio-core-v1", "384"),
        ("2024-12-31", "P00005", "num-portfolio-core-v1", "384"),
    ]
    norms = dict(
        ((d, p), float(line.split(",")[4]))
        for line, (d, p, _, _) in zip(lines[1:], keys, strict=True)
    )
    (vector,) = built_demo.query(
        "select vector from main.numeric_window_embeddings "
        "where entity_id = 'P00004' and as_of_date = '2024-12-31'"
    )[0]
    assert (
        abs(norms[("2024-12-31", "P00004")] - np.linalg.norm(np.frombuffer(vector, "<f4"))) < 1e-5
    )


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
    assert (
        missing.returncode == 2
        and "no num-portfolio-core-v1 vectors on 2030-01-31" in missing.stderr
    )


def test_neighbors_cache_matches_the_database_and_follows_new_runs(tmp_path):
    project = make_project(tmp_path, **SMALL_DEMO)
    assert project.run().ok
    query = ["neighbors", "--portfolio-id", "P00012", "--as-of", "2024-12-31", "--k", "5"]
    first = cli(project, *query)
    cached = cli(project, *query)
    direct = cli(project, *query, "--no-cache")
    assert first.returncode == cached.returncode == direct.returncode == 0
    assert first.stdout == cached.stdout == direct.stdout
    entries = [p for p in (project.work_dir / "vector-cache").iterdir() if p.is_dir()]
    assert len(entries) == 1 and (entries[0] / "vectors.npy").exists()

    # a new report for the query portfolio, a new run: the cache must not serve old vectors
    project.execute(
        "update main.portfolio_risk_reports set risk_metrics = '{\"beta\": 9.5}', "
        "created_at = created_at + interval 1 day "
        "where portfolio_id = 'P00012' and as_of_date = '2024-12-31'"
    )
    assert project.run({"as_of": "2024-12-31"}).ok
    after = cli(project, *query)
    assert after.returncode == 0
    assert after.stdout == cli(project, *query, "--no-cache").stdout
    assert after.stdout != first.stdout


def test_the_tables_are_where_the_project_config_puts_them(tmp_path):
    """PORTFOLIO_OUTPUT_SCHEMA moves the outputs (dbt_project.yml's +schema); every
    command follows, and without it they look in main again."""
    project = make_project(tmp_path, **SMALL_DEMO)
    elsewhere = {"PORTFOLIO_OUTPUT_SCHEMA": "analytics"}
    done = cli(project, "backfill", "--as-of", "2025-01-31", "--limit", "5", env=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 portfolios encoded on 2025-01-31" in done.stdout
    assert project.query(
        "select count(*) from analytics.numeric_window_embeddings where vector is not null"
    ) == [(5,)]
    assert project.query(
        "select count(*) from information_schema.tables "
        "where table_schema = 'main' and table_name = 'numeric_window_embeddings'"
    ) == [(0,)]

    shown = cli(project, "show", "--as-of", "2025-01-31", env=elsewhere)
    assert shown.returncode == 0, shown.stderr
    assert [line.split(",")[1] for line in shown.stdout.splitlines()[1:]] == [
        "P00001", "P00002", "P00003", "P00004", "P00005",
    ]  # fmt: skip
    query = ["neighbors", "--portfolio-id", "P00003", "--as-of", "2025-01-31", "--k", "5"]
    near = cli(project, *query, env=elsewhere)
    assert near.returncode == 0, near.stderr
    rows = [line.split(",") for line in near.stdout.splitlines()[1:]]
    assert rows[0][2:] == ["P00003", "2025-01-31"] and len(rows) == 5
    assert cli(project, *query, "--no-cache", env=elsewhere).stdout == near.stdout

    out = tmp_path / "map.png"
    drawn = cli(project, "map", "--as-of", "2025-01-31", "--out", str(out), env=elsewhere)
    assert drawn.returncode == 0, drawn.stderr

    not_there = cli(project, "show", "--as-of", "2025-01-31")
    assert not_there.returncode != 0
    assert '"main"."numeric_window_embeddings"' in not_there.stderr
