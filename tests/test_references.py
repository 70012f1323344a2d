"""Reference states on the embedded target (real DuckDB files, real dbt): the shipped
seed resolves on the demo, prototypes are the mean of their states' vectors, distances
and ranks are those of a brute-force numpy computation, a bad reference fails naming
it, and a run recomputes exactly the groups that changed."""

from __future__ import annotations

import datetime as dt
import math
import shutil

import numpy as np
import pytest
from conftest import DuckDbProject, make_project
from test_cli import cli

STRESS, CALM = "demo_stress_2024_10", "demo_calm"
STRESS_DATE = dt.date(2024, 10, 31)
STRESSED = [f"P{i:05d}" for i in range(5, 51, 5)]
DISTANCES = "select * from main.portfolio_reference_distances order by all"
PROTOTYPES = "select * from main.portfolio_reference_prototypes order by all"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> DuckDbProject:
    """The demo's dates with 60 portfolios, the shipped seed loaded, one run."""
    project = make_project(tmp_path_factory.mktemp("refs"), portfolios=60, seed=5)
    seed = project.dbt("seed", "--select", "reference_states")
    assert seed.ok, seed.output
    result = project.run()
    assert result.ok, result.output
    return project


def copy_of(project: DuckDbProject, tmp_path) -> DuckDbProject:
    """A project on a copy of the file, for a test that changes it."""
    shutil.copy(project.db_path, tmp_path / "portfolio.duckdb")
    return DuckDbProject(db_path=tmp_path / "portfolio.duckdb", work_dir=tmp_path)


def stored_vectors(project) -> dict[tuple[str, dt.date], np.ndarray]:
    rows = project.query(
        "select entity_id, as_of_date, vector from main.numeric_window_embeddings "
        "where entity_type = 'PORTFOLIO' and model_id = 'num-portfolio-core-v1'"
    )
    return {(pid, day): np.frombuffer(vector, "<f4") for pid, day, vector in rows}


def prototypes(project) -> dict[str, tuple[int, np.ndarray]]:
    rows = project.query(
        "select reference_label, n_states, vector from main.portfolio_reference_prototypes"
    )
    return {label: (n, np.frombuffer(vector, "<f4")) for label, n, vector in rows}


def set_references(project, rows: list[tuple]) -> None:
    """Replace the loaded seed's rows: (label, portfolio_id, as_of_date, start, end)."""
    project.execute(
        "delete from main.reference_states;"
        + "".join(
            "insert into main.reference_states values ("
            + ", ".join("null" if v is None else f"'{v}'" for v in row)
            + ", null);"
            for row in rows
        )
    )


def test_the_shipped_seed_resolves_and_prototypes_are_the_mean_of_their_states(seeded):
    vectors = stored_vectors(seeded)
    found = prototypes(seeded)
    calm = [key for key in vectors if key[1] in (dt.date(2024, 8, 31), dt.date(2024, 9, 30))]
    expected = {STRESS: [(pid, STRESS_DATE) for pid in STRESSED], CALM: calm}
    assert set(found) == set(expected)
    for label, keys in expected.items():
        n_states, vector = found[label]
        assert n_states == len(keys) == len(set(keys))
        mean = np.mean([vectors[key].astype(np.float64) for key in keys], axis=0)
        np.testing.assert_allclose(vector, mean.astype(np.float32), rtol=1e-6, atol=1e-7)


def test_distances_and_ranks_match_brute_force_numpy(seeded):
    vectors = stored_vectors(seeded)
    rows = seeded.query(
        "select reference_label, as_of_date, portfolio_id, cosine_similarity, "
        "euclidean_distance, distance_rank from main.portfolio_reference_distances"
    )
    assert len(rows) == 2 * len(vectors)  # every stored state, against each prototype
    for label, (_, prototype) in prototypes(seeded).items():
        p = prototype.astype(np.float64)
        for day in {key[1] for key in vectors}:
            ours = sorted(row[2:] for row in rows if row[0] == label and row[1] == day)
            pids = sorted(pid for pid, d in vectors if d == day)
            assert [row[0] for row in ours] == pids
            v = np.array([vectors[(pid, day)] for pid in pids], np.float64)
            distance = np.linalg.norm(v - p, axis=1)
            cosine = v @ p / (np.linalg.norm(v, axis=1) * np.linalg.norm(p))
            np.testing.assert_allclose([row[2] for row in ours], distance, rtol=1e-9)
            np.testing.assert_allclose([row[1] for row in ours], cosine, rtol=1e-9)
            order = sorted(range(len(pids)), key=lambda i: (distance[i], pids[i]))
            ranks = {pids[i]: rank for rank, i in enumerate(order, start=1)}
            assert {row[0]: row[3] for row in ours} == ranks


def test_a_rerun_with_nothing_changed_changes_no_row(seeded, tmp_path):
    project = copy_of(seeded, tmp_path)
    before = (project.query(PROTOTYPES), project.query(DISTANCES))
    assert project.run().ok
    assert (project.query(PROTOTYPES), project.query(DISTANCES)) == before


@pytest.mark.parametrize(
    "rows",
    [[(STRESS, "P00005", "2023-01-31", None, None)],
     [("empty_window", None, None, "2020-01-01", "2020-03-31")]],
    ids=["a-date-never-encoded", "a-window-never-encoded"],
)  # fmt: skip
def test_a_reference_outside_the_stored_history_is_skipped_with_a_warning(seeded, tmp_path, rows):
    # e.g. the shipped demo references on a team's own history: no prototype, no failure
    project = copy_of(seeded, tmp_path)
    set_references(project, rows)
    result = project.run()
    assert result.ok, result.output
    assert f"{rows[0][0]!r}: no prototype" in result.output
    assert project.query(PROTOTYPES) == []


@pytest.mark.parametrize(
    ("rows", "named"),
    [
        ([(STRESS, "P00005", "2024-10-31", None, None),
          (STRESS, "P09999", "2024-10-31", None, None)], ["P09999 on 2024-10-31", STRESS]),
        ([(STRESS, "P00005", "2024-10-31", None, None),
          (STRESS, "P00010", "2023-01-31", None, None)], ["P00010 on 2023-01-31", STRESS]),
        ([("both", "P00005", "2024-10-31", "2024-08-31", "2024-09-30")], ["row 1", "'both'"]),
    ],
    ids=["missing-portfolio", "missing-date-beside-a-stored-one", "state-and-window"],
)  # fmt: skip
def test_an_unresolvable_reference_fails_naming_it_and_writes_nothing(
    seeded, tmp_path, rows, named
):
    project = copy_of(seeded, tmp_path)
    before = (project.query(PROTOTYPES), project.query(DISTANCES))
    set_references(project, rows)
    result = project.run()
    assert not result.ok
    for text in named:
        assert text in result.output
    assert (project.query(PROTOTYPES), project.query(DISTANCES)) == before


def groups_computed_at(project) -> dict[tuple, object]:
    rows = project.query(
        "select reference_label, as_of_date, min(computed_at), max(computed_at) "
        "from main.portfolio_reference_distances group by all"
    )
    assert all(first == last for *_, first, last in rows)  # a group is written whole
    return {(label, day): first for label, day, first, _ in rows}


def test_a_changed_report_recomputes_every_reference_on_its_date_only(seeded, tmp_path):
    project = copy_of(seeded, tmp_path)
    before, protos = groups_computed_at(project), project.query(PROTOTYPES)
    day = dt.date(2024, 12, 31)  # no reference lists a state of that date
    project.execute(
        "update main.portfolio_risk_reports set risk_metrics = json_object('beta', 9.5) "
        f"where portfolio_id = 'P00003' and as_of_date = '{day}'"
    )
    assert project.run().ok
    after = groups_computed_at(project)
    assert {key for key in after if after[key] != before[key]} == {(STRESS, day), (CALM, day)}
    assert project.query(PROTOTYPES) == protos
    ranks = project.query(
        "select distance_rank from main.portfolio_reference_distances "
        f"where as_of_date = '{day}' and reference_label = '{STRESS}' order by 1"
    )
    assert [rank for (rank,) in ranks] == list(range(1, len(ranks) + 1))


def test_a_changed_reference_recomputes_its_own_rows_on_every_date(seeded, tmp_path):
    project = copy_of(seeded, tmp_path)
    before, protos = groups_computed_at(project), prototypes(project)
    set_references(
        project,
        [(STRESS, pid, "2024-10-31", None, None) for pid in STRESSED[:-1]]
        + [(CALM, None, None, "2024-08-31", "2024-09-30")],
    )
    assert project.run().ok
    after, changed = groups_computed_at(project), prototypes(project)
    assert {key for key in after if after[key] != before[key]} == {
        key for key in after if key[0] == STRESS
    }
    assert changed[STRESS][0] == len(STRESSED) - 1
    assert np.array_equal(changed[CALM][1], protos[CALM][1])


def test_a_removed_reference_and_a_state_without_vector_disappear(seeded, tmp_path):
    project = copy_of(seeded, tmp_path)
    set_references(project, [(STRESS, pid, "2024-10-31", None, None) for pid in STRESSED])
    project.execute(
        "insert into main.portfolio_risk_reports select * replace ('R-empty' as report_id, "
        "created_at + interval 1 day as created_at, json_object('note', 'n/a') as risk_metrics, "
        "null as exposures_by_sector, null as exposures_by_factor) "
        "from main.portfolio_risk_reports "
        "where portfolio_id = 'P00002' and as_of_date = '2024-12-31' limit 1"
    )
    assert project.run().ok
    assert set(prototypes(project)) == {STRESS}
    assert project.query(
        "select distinct reference_label from main.portfolio_reference_distances"
    ) == [(STRESS,)]
    assert project.query(
        "select count(*) from main.portfolio_reference_distances "
        "where portfolio_id = 'P00002' and as_of_date = '2024-12-31'"
    ) == [(0,)]
    (n,) = project.query(
        "select count(*) from main.numeric_window_embeddings where as_of_date = '2024-12-31'"
    )[0]
    assert project.query(
        "select count(*) from main.portfolio_reference_distances where as_of_date = '2024-12-31'"
    ) == [(n,)]


def test_without_the_seed_the_run_warns_and_writes_no_reference(tmp_path):
    project = make_project(tmp_path, portfolios=10, dates=["2024-10-31"], seed=2)
    result = project.run()
    assert result.ok, result.output
    assert "reference_states is not loaded: run `dbt seed`" in result.output
    assert project.query("select count(*) from main.portfolio_reference_prototypes") == [(0,)]
    assert project.query("select count(*) from main.portfolio_embedding_drift") == project.query(
        "select count(*) from main.numeric_window_embeddings"
    )


def test_distances_command_lists_the_closest_states_as_csv(seeded):
    done = cli(seeded, "distances", "--as-of", "2024-10-31", "--reference", STRESS, "--k", "4")
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    assert (
        header
        == "reference_label,as_of_date,rank,portfolio_id,euclidean_distance,cosine_similarity"
    )
    expected = seeded.query(
        "select distance_rank, portfolio_id, euclidean_distance from "
        f"main.portfolio_reference_distances where reference_label = '{STRESS}' "
        "and as_of_date = '2024-10-31' order by distance_rank limit 4"
    )
    assert [line.split(",")[2:5] for line in lines] == [
        [str(rank), pid, f"{distance:.6f}"] for rank, pid, distance in expected
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2024-10-31"], "several references, choose one: --reference demo_calm | "),
        (["--as-of", "2024-10-31", "--reference", "nope"], "unknown reference 'nope'"),
        (["--as-of", "2019-10-31", "--reference", CALM], "no num-portfolio-core-v1 states on 2019"),
    ],
)
def test_distances_command_mistakes_are_one_line_and_exit_2(seeded, args, message):
    done = cli(seeded, "distances", *args)
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("portfolio-embeddings: error: ") and message in line


def test_distances_command_rejects_a_bad_k_before_reading_anything(seeded):
    done = cli(seeded, "distances", "--as-of", "2024-10-31", "--k", "0")
    assert done.returncode == 2
    assert "expected a positive integer, got '0'" in done.stderr.strip().splitlines()[-1]


ANALYTICS = {
    "portfolio_reference_prototypes": "reference_label, model_id, n_states, vector",
    "portfolio_reference_distances": "reference_label, model_id, as_of_date, portfolio_id, "
    "cosine_similarity, euclidean_distance, distance_rank",
    "portfolio_embedding_drift": "portfolio_id, model_id, as_of_date, previous_as_of_date, "
    "step_distance, step_cosine",
    "portfolio_embedding_dispersion": "model_id, as_of_date, n_states, dispersion",
}


def test_the_postgres_target_writes_the_embedded_targets_rows_once(seeded, tmp_path):
    """The same reports and seed through the postgres target (a real PostgreSQL 15):
    the analytics tables land in historical with the embedded target's values, and a
    rerun with nothing new writes nothing."""
    import psycopg
    from pg_server import create_platform_databases, load_reports, postgres_server
    from test_pipeline_postgres import EXTENSIONS, PLATFORM_DDL, pg_env

    def rows(fetch, table):
        return sorted(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                      for row in fetch(f"select {ANALYTICS[table]} from {table}"))  # fmt: skip

    with postgres_server() as server:
        create_platform_databases(server, PLATFORM_DDL)
        load_reports(server, seeded.db_path, EXTENSIONS)
        scratch = DuckDbProject(db_path=tmp_path / "scratch.duckdb", work_dir=tmp_path)
        env = {"PORTFOLIO_SCRATCH_PATH": str(scratch.db_path), **pg_env(server)}
        for step in (
            ("seed", "--select", "reference_states"),
            ("run", "--select", "portfolio_embeddings"),
        ):
            result = scratch.dbt(*step, "--target", "postgres", env=env)
            assert result.ok, result.output

        def historical(sql):
            with psycopg.connect(server.url("historical")) as con:
                return con.execute(sql).fetchall()

        def snapshot():  # every column, computed_at included
            return {table: sorted(map(str, historical(f"select * from {table}")))
                    for table in ANALYTICS}  # fmt: skip

        written = snapshot()
        for table in ANALYTICS:
            ours, theirs = rows(seeded.query, table), rows(historical, table)
            assert len(ours) == len(theirs) > 0, table
            for mine, pg_row in zip(ours, theirs, strict=True):
                assert all(map(same_value, mine, pg_row)), (table, mine, pg_row)
        result = scratch.dbt(
            "run", "--select", "portfolio_embeddings", "--target", "postgres", env=env
        )
        assert result.ok, result.output
        assert snapshot() == written


def same_value(a, b) -> bool:
    """Equal, floats and float32 vectors to within float rounding (the engines may sum
    the vectors in another order)."""
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, bytes):
        return np.allclose(np.frombuffer(a, "<f4"), np.frombuffer(b, "<f4"), rtol=1e-6, atol=1e-7)
    return a == b
