"""backfill / backfill_numeric_portfolio_embeddings from a folder outside the
repository: the old script's flags and defaults, and a summary that counts what the run
itself wrote (checked against the rows in the DuckDB file)."""

from __future__ import annotations

import re

import duckdb
from conftest import SMALL_DEMO, make_project
from test_cli import assert_one_line_error, cli, elsewhere

LAST = "2025-01-31"


def summary(stdout: str) -> dict[str, int]:
    """The summary's counts by label, e.g. {'states selected': 100, ...}."""
    return {label: int(n) for label, n in re.findall(r"^  ([a-z -]+): +(\d+)", stdout, re.M)}


def rejects_by_reason(project, where: str) -> str:
    rows = project.query(
        f"select reason, count(*) from main.portfolio_feature_rejects where {where} "
        "group by 1 order by 2 desc, 1"
    )
    return ", ".join(f"{reason} {n}" for reason, n in rows)


def keys_on(project, day: str, table="numeric_window_embeddings") -> dict[str, object]:
    """portfolio_id -> created_at of the stored rows of a date."""
    pid = "entity_id" if table == "numeric_window_embeddings" else "entity_scope ->> 'portfolio_id'"
    return dict(project.query(
        f"select {pid}, created_at from main.{table} where as_of_date = ?", [day]))  # fmt: skip


def test_backfill_counts_are_the_rows_this_run_wrote_and_limit_defaults_to_100(tmp_path):
    project = make_project(tmp_path, portfolios=120, dates=["2024-12-31", LAST], seed=11)
    first = cli(project, "--as-of", LAST, program="backfill_numeric_portfolio_embeddings")
    assert first.returncode == 0, first.stdout + first.stderr
    counts = summary(first.stdout)
    stored = keys_on(project, LAST)
    first_hundred = [f"P{i:05d}" for i in range(1, 101)]
    assert set(stored) <= set(first_hundred)  # the old script's default: --limit 100
    assert keys_on(project, "2024-12-31") == {}  # the date is respected
    without = project.query(
        "select portfolio_id from main.portfolio_feature_rejects "
        "where reason = 'no_usable_features' and as_of_date = ?", [LAST])  # fmt: skip
    assert counts == {
        "states selected": 100,
        "re-encoded": 100,
        "left unchanged": 0,
        "encoded": len(stored),
        "without usable features": len(without),
        "rows deleted": 0,
        "joint rows written": len(keys_on(project, LAST, "joint_embeddings")),
        "rejected": project.query("select count(*) from main.portfolio_feature_rejects")[0][0],
    }
    assert len(stored) + len(without) == 100 and len(without) >= 1  # P00010: an empty report
    assert f"({len(stored)} new, 0 replaced)" in first.stdout
    assert f"({rejects_by_reason(project, 'true')})" in first.stdout
    assert list(elsewhere(project).iterdir()) == []  # no stray DuckDB file where it ran

    # A newer report without usable features for P00011 and a changed one for P00012:
    # the next run re-encodes exactly those two, removes P00011's rows, keeps the rest.
    with duckdb.connect(str(project.db_path)) as con:
        for pid, metrics in [("P00011", '{"note": "n/a"}'), ("P00012", '{"beta": 2.5}')]:
            con.execute(
                "insert into main.portfolio_risk_reports by name select * replace ("
                "report_id || '-new' as report_id, ? as risk_metrics, "
                "null as exposures_by_sector, null as exposures_by_factor, "
                "created_at + interval 1 day as created_at) "
                "from main.portfolio_risk_reports where portfolio_id = ? and as_of_date = ? "
                "order by created_at desc limit 1",
                [metrics, pid, LAST],
            )
    joint_before = keys_on(project, LAST, "joint_embeddings")
    second = cli(project, "backfill", "--as-of", LAST)
    assert second.returncode == 0, second.stdout + second.stderr
    after = keys_on(project, LAST)
    written = sorted(pid for pid, at in after.items() if stored.get(pid) != at)
    deleted = sorted(set(stored) - set(after))
    joint_after = keys_on(project, LAST, "joint_embeddings")
    assert written == ["P00012"] and deleted == ["P00011"]
    assert summary(second.stdout) == {
        "states selected": 100,
        "re-encoded": len(written) + len(deleted),
        "left unchanged": 100 - len(written) - len(deleted),
        "encoded": len(written),
        "without usable features": len(deleted),
        "rows deleted": len(deleted),
        "joint rows written": sum(joint_after[p] != joint_before.get(p) for p in joint_after),
        "rejected": 2,
    }
    assert f"rows deleted:            1 numeric, {len(joint_before) - len(joint_after)} joint" in (
        second.stdout
    )
    recorded = rejects_by_reason(project, "portfolio_id in ('P00011', 'P00012')")
    assert recorded == "no_usable_features 1, string_value 1"
    assert f"rejected:                2 ({recorded})" in second.stdout
    assert "(0 new, 1 replaced)" in second.stdout


def test_nothing_to_do_portfolio_ids_and_a_failed_pipeline(tmp_path):
    project = make_project(tmp_path, **SMALL_DEMO)
    idle = cli(project, "backfill", "--as-of", "2025-02-15")
    assert idle.returncode == 0, idle.stdout + idle.stderr
    assert idle.stdout.strip() == (
        "nothing to do: no reports on 2025-02-15; nearest dates with reports: "
        "2025-01-31, 2024-12-31, 2024-11-30"
    )
    assert project.query("select count(*) from duckdb_tables() where table_name like 'num%'") == [
        (0,)
    ]  # no dbt run for nothing
    assert_one_line_error(
        cli(project, "backfill", "--as-of", LAST, "--portfolio-id", "P0001"),
        "no report of portfolio 'P0001' on any date; close ids: P00001",
    )
    assert_one_line_error(
        cli(project, "backfill", "--as-of", LAST, "--start", "2025-01-01"), "not both"
    )
    assert_one_line_error(cli(project, "backfill", "--limit", "3"), "--as-of YYYY-MM-DD")

    two = cli(project, "backfill", "--as-of", LAST, "--portfolio-id", "P00003",
              "--portfolio-id", "P00031", "--limit", "1")  # fmt: skip
    assert two.returncode == 0, two.stdout + two.stderr
    assert summary(two.stdout)["states selected"] == 1  # the limit applies to the ids given
    assert set(keys_on(project, LAST)) == {"P00003"}

    # the shared table as another writer made it, with a rule every row breaks
    project.execute(
        "drop table main.numeric_window_embeddings; "
        "create table main.numeric_window_embeddings (embedding_id bigint, entity_type varchar,"
        " entity_id varchar check (length(entity_id) > 64), window_spec json, as_of_date date,"
        " model_id varchar, vector blob, vector_ref varchar, created_at timestamptz)"
    )
    failed = cli(project, "backfill", "--as-of", "2024-12-31", "--limit", "2")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "backfill failed after" in failed.stderr and "Traceback" not in failed.stderr
    assert "numeric_window_embeddings" in failed.stderr
