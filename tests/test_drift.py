"""Drift on the embedded target (real DuckDB files, real dbt): steps and dispersion are
those of numpy on the stored vectors, a portfolio's first date has no step, the
warn-severity tests fire on a planted jump without failing the build, and a state that
loses its vector takes its step with it (the next date then steps from the one before)."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from conftest import DuckDbProject, make_project
from test_references import copy_of, stored_vectors

from portfolio_embeddings.drift import _dispersion
from portfolio_embeddings.vector_reads import BATCH_ROWS, portfolio_vectors

DATES = ["2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31"]
DRIFT = "select * from main.portfolio_embedding_drift order by all"
DISPERSION = "select * from main.portfolio_embedding_dispersion order by all"


@pytest.fixture(scope="module")
def drifted(tmp_path_factory) -> DuckDbProject:
    """30 portfolios over 4 dates without messy entries (no planted outlier), one run."""
    project = make_project(
        tmp_path_factory.mktemp("drift"), portfolios=30, dates=DATES, seed=3, messy=False
    )
    result = project.run()
    assert result.ok, result.output
    return project


def steps(project) -> dict[tuple[str, dt.date], tuple]:
    rows = project.query(
        "select portfolio_id, as_of_date, previous_as_of_date, step_distance, step_cosine "
        "from main.portfolio_embedding_drift"
    )
    return {(pid, day): tuple(rest) for pid, day, *rest in rows}


def expected_step(vectors, pid, day, previous):
    a, b = vectors[(pid, day)].astype(np.float64), vectors[(pid, previous)].astype(np.float64)
    return np.linalg.norm(a - b), a @ b / (np.linalg.norm(a) * np.linalg.norm(b))


def test_steps_match_numpy_and_a_first_date_has_none(drifted):
    vectors, found = stored_vectors(drifted), steps(drifted)
    assert found.keys() == vectors.keys()
    for pid in {pid for pid, _ in vectors}:
        days = sorted(day for p, day in vectors if p == pid)
        assert found[(pid, days[0])] == (None, None, None)
        for previous, day in zip(days, days[1:], strict=False):
            got_previous, distance, cosine = found[(pid, day)]
            assert got_previous == previous
            np.testing.assert_allclose(
                (distance, cosine), expected_step(vectors, pid, day, previous), rtol=1e-9
            )


def test_dispersion_is_the_mean_distance_to_the_dates_centroid(drifted):
    vectors = stored_vectors(drifted)
    rows = drifted.query(
        "select as_of_date, n_states, dispersion from main.portfolio_embedding_dispersion"
    )
    assert {day for day, *_ in rows} == {day for _, day in vectors}
    for day, n_states, dispersion in rows:
        v = np.array([vec for (_, d), vec in vectors.items() if d == day], np.float64)
        assert n_states == len(v)
        expected = np.linalg.norm(v - v.mean(axis=0), axis=1).mean()
        np.testing.assert_allclose(dispersion, expected, rtol=1e-9)


def plant(project, where: str, metric_sql: str) -> None:
    """Add risk_metrics.planted (its value an SQL expression) to the matching reports."""
    project.execute(
        "update main.portfolio_risk_reports set risk_metrics = "
        f"json_merge_patch(risk_metrics, json_object('planted', {metric_sql})) where {where}"
    )


def warn_tests(project):
    return project.dbt(
        "test", "--select", "portfolio_embedding_drift", "portfolio_embedding_dispersion"
    )


def test_the_warn_tests_pass_on_calm_data(drifted):
    result = warn_tests(drifted)
    assert result.ok, result.output
    assert "WARN=0" in result.output and "ERROR=0" in result.output


def test_a_planted_step_warns_without_failing(drifted, tmp_path):
    project = copy_of(drifted, tmp_path)
    # log1p(1e6) = 13.8 along one feature's direction: a step above drift_step_threshold 8
    plant(project, "portfolio_id = 'P00004' and as_of_date = '2024-11-30'", "1e6")
    assert project.run().ok
    result = warn_tests(project)
    assert result.ok, result.output  # warn severity: the build goes on
    assert "WARN 2 drift_step_above_threshold" in result.output  # to 11-30 and back on 12-31
    assert "ERROR=0" in result.output
    flagged = project.query(
        "select portfolio_id, as_of_date from main.portfolio_embedding_drift "
        "where step_distance > 8 order by 2"
    )
    assert flagged == [("P00004", dt.date(2024, 11, 30)), ("P00004", dt.date(2024, 12, 31))]


def test_a_planted_dispersion_jump_warns_without_failing(drifted, tmp_path):
    project = copy_of(drifted, tmp_path)
    # every portfolio moves 4 (signed log1p of +-53.6) along one direction, half of them
    # one way and half the other: the centroid stays, the spread doubles
    plant(
        project,
        "as_of_date = '2024-12-31'",
        "case when portfolio_id[-1:] in ('0', '2', '4', '6', '8') then 53.6 else -53.6 end",
    )
    assert project.run().ok
    result = warn_tests(project)
    assert result.ok, result.output
    assert "WARN 1 dispersion_jumps" in result.output
    assert "ERROR=0" in result.output


def test_a_state_that_loses_its_vector_takes_its_step_and_the_next_steps_over_it(drifted, tmp_path):
    project = copy_of(drifted, tmp_path)
    before, dispersion = project.query(DRIFT), project.query(DISPERSION)
    project.execute(
        "update main.portfolio_risk_reports set risk_metrics = json_object('note', 'n/a'), "
        "exposures_by_sector = null, exposures_by_factor = null "
        "where portfolio_id = 'P00003' and as_of_date = '2024-10-31'"
    )
    assert project.run().ok
    gone, after = dt.date(2024, 10, 31), dt.date(2024, 11, 30)
    found, vectors = steps(project), stored_vectors(project)
    assert ("P00003", gone) not in found
    assert found[("P00003", after)][0] == dt.date(2024, 9, 30)
    np.testing.assert_allclose(
        found[("P00003", after)][1:],
        expected_step(vectors, "P00003", after, dt.date(2024, 9, 30)),
        rtol=1e-9,
    )
    untouched = [row for row in before if row[0] != "P00003"]
    assert [row for row in project.query(DRIFT) if row[0] != "P00003"] == untouched
    now = project.query(DISPERSION)
    assert [row[1] for row in now] == [row[1] for row in dispersion]  # every date, once
    assert {row[1] for row in now if row not in dispersion} == {gone}  # only its date


def test_a_rerun_with_nothing_changed_changes_no_row(drifted, tmp_path):
    project = copy_of(drifted, tmp_path)
    before = (project.query(DRIFT), project.query(DISPERSION))
    assert project.run().ok
    assert (project.query(DRIFT), project.query(DISPERSION)) == before


def test_a_row_that_points_elsewhere_is_not_a_stored_vector(drifted, tmp_path):
    """A row of the model with a vector_ref (another writer's pointer, no vector) is left
    out: the keys are read without the vector column (docs/analytics.md)."""
    project = copy_of(drifted, tmp_path)
    before = (project.query(DRIFT), project.query(DISPERSION))
    project.execute(
        "insert into main.numeric_window_embeddings (entity_type, entity_id, window_spec, "
        "as_of_date, model_id, vector, vector_ref, created_at) values ('PORTFOLIO', "
        "'P00002', '{\"entity_type\": \"PORTFOLIO\", \"window_days\": 1}', '2024-08-31', "
        "'num-portfolio-core-v1', null, 's3://elsewhere/P00002', current_timestamp)"
    )
    assert project.run().ok
    assert (project.query(DRIFT), project.query(DISPERSION)) == before


def test_dispersion_over_several_batches_matches_numpy(tmp_path):
    """Batches holding one date and batches holding two (both code paths of _dispersion)
    give numpy's mean distance to each date's centroid."""
    rng = np.random.default_rng(5)
    n_rows = 2 * BATCH_ROWS + 1000
    vectors = rng.standard_normal((n_rows, 8)).astype(np.float32)
    days = np.where(np.arange(n_rows) < BATCH_ROWS + 500, 0, 1)  # one switch mid-batch
    dates = [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]
    con = duckdb.connect(str(tmp_path / "vectors.duckdb"))
    rows = pa.table({
        "entity_type": ["PORTFOLIO"] * n_rows,
        "entity_id": [f"P{i:06d}" for i in range(n_rows)],
        "as_of_date": [dates[d] for d in days],
        "model_id": ["m"] * n_rows,
        "window_spec": ["{}"] * n_rows,
        "vector": pa.array([v.tobytes() for v in vectors], pa.binary()),
        "vector_ref": pa.nulls(n_rows, pa.string()),
        "created_at": [dt.datetime(2024, 3, 1)] * n_rows,
    })  # fmt: skip
    con.register("rows_in", rows)
    con.execute("create table stored as select * from rows_in order by entity_id")
    sql = portfolio_vectors("select * from stored", "m")

    n_states, dispersion = _dispersion(con.cursor(), sql, pa.array(dates))

    for code in (0, 1):
        mine = vectors[days == code].astype(np.float64)
        expected = np.linalg.norm(mine - mine.mean(axis=0), axis=1).mean()
        assert n_states[code] == len(mine)
        np.testing.assert_allclose(dispersion[code], expected, rtol=1e-12)
