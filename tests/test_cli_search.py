"""neighbors, explain and show from a folder outside the repository, each against an
independent computation: numpy brute force over the stored bytes, the features parsed
from the reports in plain Python."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from conftest import DuckDbProject
from test_cli import assert_one_line_error, cli, cli_env, command, elsewhere
from test_pipeline_duckdb import expected_states

from python_encoders import signed_log1p

JOINT = "joint-portfolio-core-v1"
NUMERIC = "num-portfolio-core-v1"


def stored(project, model_id: str):
    """(portfolio_id, as_of_date) keys and the float64 matrix of a model's vectors."""
    if model_id == JOINT:
        sql = ("select entity_scope ->> 'portfolio_id', cast(as_of_date as varchar), vector "
               "from main.joint_embeddings where model_id = ?")  # fmt: skip
    else:
        sql = ("select entity_id, cast(as_of_date as varchar), vector from "
               "main.numeric_window_embeddings where entity_type = 'PORTFOLIO' "
               "and model_id = ? and vector is not null")  # fmt: skip
    rows = project.query(sql, [model_id])
    keys = [(pid, day) for pid, day, _ in rows]
    matrix = np.stack([np.frombuffer(v, dtype="<f4") for *_, v in rows]).astype(np.float64)
    return keys, matrix


def brute_force(keys, matrix, query, k, searched):
    """The k best (key, cosine, euclidean) among keys for which searched(key) holds,
    ties by (portfolio_id, as_of_date)."""
    q = matrix[keys.index(query)]
    cosine = matrix @ q / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(q))
    pool = [i for i, key in enumerate(keys) if key != query and searched(key)]
    pool.sort(key=lambda i: (-cosine[i], keys[i]))
    return [(keys[i], cosine[i], np.linalg.norm(matrix[i] - q)) for i in pool[:k]]


def neighbors(project, *args):
    done = cli(project, "neighbors", *args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "cosine,euclidean,portfolio_id,as_of_date"
    return [(float(c), float(e), (pid, day)) for c, e, pid, day in
            (line.split(",") for line in lines[1:])]  # fmt: skip


def assert_same(found, expected):
    assert [key for *_, key in found] == [key for key, *_ in expected]
    np.testing.assert_allclose([c for c, *_ in found], [c for _, c, _ in expected], atol=1e-5)
    np.testing.assert_allclose([e for _, e, _ in found], [e for *_, e in expected], atol=1e-4)


@pytest.mark.parametrize("model_id", [JOINT, NUMERIC])
def test_neighbors_are_the_brute_force_answer_without_the_query(built_demo, model_id):
    keys, matrix = stored(built_demo, model_id)
    query = ("P00012", "2024-12-31")
    model = [] if model_id == JOINT else ["--model-id", model_id]  # the joint space is the default
    same_day = neighbors(built_demo, "--portfolio-id", "P00012", "--as-of", "2024-12-31",
                         "--top-k", "7", *model)  # fmt: skip
    assert_same(same_day, brute_force(keys, matrix, query, 7, lambda key: key[1] == query[1]))
    every_day = neighbors(built_demo, "--portfolio-id", "P00012", "--as-of", "2024-12-31",
                          "--k", "12", "--all-dates", *model)  # fmt: skip
    assert_same(every_day, brute_force(keys, matrix, query, 12, lambda key: True))
    assert any(day != query[1] for *_, (_, day) in every_day)
    ranged = neighbors(built_demo, "--portfolio-id", "P00012", "--as-of", "2024-12-31",
                       "--start", "2024-12-31", "--end", "2025-01-31", *model)  # fmt: skip
    assert_same(ranged, brute_force(keys, matrix, query, 10, lambda key: key[1] >= query[1]))


def test_equal_cosines_are_ordered_by_portfolio_then_date(built_demo, tmp_path):
    project = DuckDbProject(tmp_path / "ties.duckdb", tmp_path)
    shutil.copy(built_demo.db_path, project.db_path)
    # two more states with P00007's vector exactly: three equal cosines to any query
    project.execute(
        "insert into main.numeric_window_embeddings by name select n.* replace "
        "(n.entity_id || s.suffix as entity_id) from main.numeric_window_embeddings as n, "
        "(values ('a'), ('0')) as s (suffix) "
        "where n.entity_id = 'P00007' and n.as_of_date = '2024-12-31'"
    )
    found = neighbors(project, "--portfolio-id", "P00012", "--as-of", "2024-12-31",
                      "--k", "200", "--model-id", NUMERIC)  # fmt: skip
    twins = [key for *_, key in found if key[0].startswith("P00007")]
    assert twins == [("P00007", "2024-12-31"), ("P000070", "2024-12-31"),
                     ("P00007a", "2024-12-31")]  # fmt: skip
    positions = [i for i, (*_, key) in enumerate(found) if key in twins]
    assert positions == list(range(positions[0], positions[0] + 3))
    assert len({found[i][0] for i in positions}) == 1


def test_neighbors_of_a_missing_state_name_the_next_step(built_demo):
    assert_one_line_error(
        cli(built_demo, "neighbors", "--portfolio-id", "P0012", "--as-of", "2024-12-31"),
        f"no {JOINT} vector for portfolio 'P0012' on 2024-12-31",
        "close ids: P00012",
    )
    assert_one_line_error(
        cli(built_demo, "neighbors", "--portfolio-id", "P00012", "--as-of", "2024-10-31"),
        "its nearest dates with one: 2024-11-30, 2024-12-31, 2025-01-31",
    )


def transformed(features: dict[str, float]) -> dict[str, float]:
    return {name: float(signed_log1p(value)) for name, value in features.items()}


@pytest.mark.parametrize(
    "a, b",
    [
        (("P00012", "2024-12-31"), ("P00031", "2024-12-31")),
        (("P00002", "2025-01-31"), ("P00002", "2024-11-30")),
    ],  # fmt: skip
)
def test_explain_shares_add_up_to_the_squared_distance_of_the_transformed_features(
    built_demo, a, b
):
    done = cli(built_demo, "explain", "--portfolio-id", a[0], "--as-of", a[1],
               "--other", b[0], "--other-as-of", b[1], "--model-id", JOINT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "feature,value_a,value_b,transformed_a,transformed_b,difference,share"
    rows = [line.rsplit(",", 6) for line in lines[1:]]
    states = expected_states(built_demo)
    x_a, x_b = transformed(states[a][1]), transformed(states[b][1])
    names = sorted(set(x_a) | set(x_b))
    diff = np.array([x_a.get(n, 0.0) - x_b.get(n, 0.0) for n in names])
    squared = float(diff @ diff)
    assert sorted(r[0].strip('"') for r in rows) == names
    shares = np.array([float(r[6]) for r in rows])
    np.testing.assert_allclose(shares.sum(), 1.0, rtol=1e-12)
    for name, raw_a, raw_b, t_a, t_b, difference, share in rows:
        name = name.strip('"')
        assert raw_a == (repr(states[a][1][name]) if name in x_a else "")
        assert raw_b == (repr(states[b][1][name]) if name in x_b else "")
        np.testing.assert_allclose([float(t_a), float(t_b)], [x_a.get(name, 0), x_b.get(name, 0)])
        np.testing.assert_allclose(float(difference) ** 2, float(share) * squared, rtol=1e-9)
    assert list(shares) == sorted(shares, reverse=True)
    np.testing.assert_allclose(float(done.stderr.split()[2]), squared, rtol=1e-6)
    # The stored vectors' distance is the projection's of the features' (about kept).
    keys, matrix = stored(built_demo, NUMERIC)
    vector_distance = float(np.sum((matrix[keys.index(a)] - matrix[keys.index(b)]) ** 2))
    assert f"{vector_distance:.6f} between the stored vectors" in done.stderr


def test_show_selects_by_model_dates_portfolios_and_limit(built_demo):
    done = cli(
        built_demo,
        "show",
        "--start",
        "2024-11-30",
        "--end",
        "2024-12-31",
        "--portfolio-id",
        "P00004",
        "--portfolio-id",
        "P00005",
        "--model-id",
        JOINT,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "as_of_date,portfolio_id,model_id,dim,l2_norm"
    keys, matrix = stored(built_demo, JOINT)
    expected = [(day, pid) for day in ("2024-11-30", "2024-12-31") for pid in ("P00004", "P00005")]
    assert [tuple(line.split(",")[:2]) for line in lines[1:]] == expected
    for line, (day, pid) in zip(lines[1:], expected, strict=True):
        assert line.split(",")[2:4] == [JOINT, "384"]
        norm = np.linalg.norm(matrix[keys.index((pid, day))])
        assert line.split(",")[4] == f"{norm:.6f}"
    limited = cli(built_demo, "show", "--limit", "3")
    assert limited.returncode == 0, limited.stderr
    first_three = built_demo.query(
        "select cast(as_of_date as varchar), entity_id from main.numeric_window_embeddings "
        "where entity_type = 'PORTFOLIO' order by 1, 2, model_id limit 3"
    )
    assert [tuple(line.split(",")[:2]) for line in limited.stdout.splitlines()[1:]] == (first_three)
    old_spelling = cli(built_demo, "show", "--as-of", "2024-12-31", "--to", "2025-01-31")
    days = {line.split(",")[0] for line in old_spelling.stdout.splitlines()[1:]}
    assert days == {"2024-12-31", "2025-01-31"}


@pytest.mark.parametrize("subcommand", [
    ["show"], ["explain", "--portfolio-id", "P00001", "--as-of", "2025-01-31", "--other", "P00002"],
    ["neighbors", "--portfolio-id", "P00001", "--as-of", "2025-01-31", "--all-dates", "--k", "90"],
])  # fmt: skip
def test_a_reader_that_stops_early_ends_the_command_cleanly(built_demo, subcommand):
    # the pipe is closed before the command writes: every write meets a closed pipe
    process = subprocess.Popen(
        command("portfolio-embeddings", *subcommand), cwd=elsewhere(built_demo),
        env=cli_env(built_demo), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=300) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
    # and as a shell pipeline
    shell = " ".join(f"'{part}'" for part in command("portfolio-embeddings", *subcommand))
    piped = subprocess.run(
        f"set -o pipefail; {shell} | head -1", shell=True, executable="/bin/bash",
        cwd=elsewhere(built_demo), env=cli_env(built_demo), capture_output=True, text=True,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.count("\n") == 1 and "Traceback" not in piped.stderr
