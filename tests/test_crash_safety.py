"""A run killed at any moment (SIGKILL, DuckDB's commit included) leaves, once the next
run has opened the file, every natural key at most once, with its old or its new row."""

from __future__ import annotations

import os
import signal
import time

from conftest import make_project

DATES = ["2024-11-30", "2024-12-31", "2025-01-31"]
NUMERIC_KEYS = (
    "select entity_type, entity_id, as_of_date, model_id, count(*) "
    "from main.numeric_window_embeddings group by all order by all"
)
JOINT_KEYS = (
    "select joint_type, entity_scope ->> 'portfolio_id', as_of_date, model_id, count(*) "
    "from main.joint_embeddings group by all order by all"
)
VECTORS = "select entity_id, as_of_date, vector from main.numeric_window_embeddings order by all"


def start_rebuild(project):
    return project.start("run", "--select", "portfolio_embeddings", vars={"rebuild": True})


def test_a_run_killed_at_any_moment_leaves_each_key_once_with_its_old_or_new_row(tmp_path):
    project = make_project(tmp_path, portfolios=4000, dates=DATES, seed=3)
    assert project.run().ok
    numeric_keys, joint_keys = project.query(NUMERIC_KEYS), project.query(JOINT_KEYS)
    vectors = project.query(VECTORS)
    assert all(row[-1] == 1 for row in numeric_keys + joint_keys)

    started = time.perf_counter()
    assert start_rebuild(project).wait() == 0
    duration = time.perf_counter() - started
    # 12 moments from dbt's start-up to the last commit, denser towards the writes
    for fraction in (0.1, 0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.94, 0.97, 0.99):
        process = start_rebuild(project)
        time.sleep(duration * fraction)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        reopened = project.run()  # opens the file: its on-run-start repairs a torn commit
        assert reopened.ok, reopened.output
        assert project.query(NUMERIC_KEYS) == numeric_keys, fraction
        assert project.query(JOINT_KEYS) == joint_keys, fraction
        assert project.query(VECTORS) == vectors, fraction  # old and new rows: same bytes


def test_a_torn_commit_is_repaired_keeping_the_newest_row(tmp_path):
    """The state a partly replayed WAL leaves (each key's new row beside its old one),
    planted directly: the next run keeps only the newest row of each key."""
    project = make_project(tmp_path, portfolios=30, dates=DATES[-1:], seed=3)
    assert project.run().ok
    current = project.query(VECTORS)
    project.execute(
        "insert into main.numeric_window_embeddings select * replace ("
        "created_at - interval 1 day as created_at, '\\x00'::blob as vector) "
        "from main.numeric_window_embeddings"
    )
    result = project.run()
    assert result.ok, result.output
    assert f"Repaired {len(current)} key(s)" in result.output
    assert project.query(VECTORS) == current
