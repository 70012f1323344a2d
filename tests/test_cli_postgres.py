"""The command line on the postgres target, against a real PostgreSQL 15 that the
tests start (test_pipeline_postgres's server, one of its own for this module): backfill
counts against the rows in `historical`, the readers read them there."""

from __future__ import annotations

import numpy as np
from test_cli import cli
from test_cli_backfill import summary
from test_pipeline_postgres import historical, pg, pg_env, pg_project  # noqa: F401 (pg: fixture)

LAST = "2025-01-31"
TARGET = ["--target", "postgres"]


def test_backfill_and_the_readers_on_the_postgres_target(pg):  # noqa: F811
    project = pg_project(pg, "cli")
    env = {**pg_env(pg), "PORTFOLIO_SCRATCH_PATH": str(project.db_path)}
    done = cli(project, "backfill", "--as-of", LAST, "--limit", "12", *TARGET, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    mine = "entity_type = 'PORTFOLIO' and model_id = 'num-portfolio-core-v1'"
    stored = historical(pg, f"select entity_id from numeric_window_embeddings where {mine} "
                        "and as_of_date = %s and vector is not null", [LAST])  # fmt: skip
    joint = historical(pg, "select count(*) from joint_embeddings where as_of_date = %s", [LAST])
    rejects = historical(pg, "select count(*), count(*) filter (where reason = "
                         "'no_usable_features') from portfolio_feature_rejects")  # fmt: skip
    assert summary(done.stdout) == {
        "states selected": 12,
        "re-encoded": 12,
        "left unchanged": 0,
        "encoded": len(stored),
        "without usable features": rejects[0][1],
        "rows deleted": 0,
        "joint rows written": joint[0][0],
        "rejected": rejects[0][0],
    }
    assert len(stored) + rejects[0][1] == 12 and rejects[0][1] >= 1  # P00010: empty report

    near = cli(project, "neighbors", "--portfolio-id", "P00002", "--as-of", LAST, "--k", "3",
               *TARGET, env=env)  # fmt: skip
    assert near.returncode == 0, near.stderr
    rows = [line.split(",") for line in near.stdout.splitlines()[1:]]
    assert len(rows) == 3 and all(r[3] == LAST and r[2] != "P00002" for r in rows)
    assert [float(r[0]) for r in rows] == sorted((float(r[0]) for r in rows), reverse=True)

    explained = cli(project, "explain", "--portfolio-id", "P00002", "--as-of", LAST,
                    "--other", rows[0][2], *TARGET, env=env)  # fmt: skip
    assert explained.returncode == 0, explained.stderr
    shares = [float(line.rsplit(",", 1)[1]) for line in explained.stdout.splitlines()[1:]]
    np.testing.assert_allclose(sum(shares), 1.0, rtol=1e-12)

    shown = cli(project, "show", "--as-of", LAST, "--portfolio-id", "P00002", *TARGET, env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1].startswith(f"{LAST},P00002,num-portfolio-core-v1,384,")
    out = project.work_dir / "map.png"
    drawn = cli(project, "map", "--as-of", LAST, "--highlight", "P00002", "--out", str(out),
                *TARGET, env=env)  # fmt: skip
    assert drawn.returncode == 0, drawn.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
