"""The vector cache of neighbors: one copy per (table location, model_id), the older
copy removed when a run changed the vectors, a size cap, and --no-cache."""

from __future__ import annotations

from conftest import SMALL_DEMO, make_project
from test_cli import assert_one_line_error, cli

QUERY = ["neighbors", "--portfolio-id", "P00012", "--as-of", "2024-12-31", "--k", "5"]


def copies(project) -> dict[str, list[str]]:
    """slot -> the copies in it (hidden building folders included: none may be left)."""
    root = project.work_dir / "vector-cache"
    return {slot.name: sorted(c.name for c in slot.iterdir()) for slot in root.iterdir()}


def copy_size(project) -> int:
    root = project.work_dir / "vector-cache"
    return sum(f.stat().st_size for f in root.glob("*/*/*.*"))


def test_one_copy_per_table_and_model_and_a_size_cap(tmp_path):
    project = make_project(tmp_path, **SMALL_DEMO)
    assert project.run().ok
    first = cli(project, *QUERY)
    cached = cli(project, *QUERY)
    direct = cli(project, *QUERY, "--no-cache")
    assert first.returncode == cached.returncode == direct.returncode == 0, first.stderr
    assert first.stdout == cached.stdout == direct.stdout
    (joint_slot, joint_copies), *others = copies(project).items()
    assert others == [] and len(joint_copies) == 1

    # a new report for the query portfolio, a new run: a new copy replaces the old one
    project.execute(
        "update main.portfolio_risk_reports set risk_metrics = '{\"beta\": 9.5}', "
        "created_at = created_at + interval 1 day "
        "where portfolio_id = 'P00012' and as_of_date = '2024-12-31'"
    )
    assert project.run({"as_of": "2024-12-31"}).ok
    after = cli(project, *QUERY)
    assert after.returncode == 0, after.stderr
    assert after.stdout == cli(project, *QUERY, "--no-cache").stdout != first.stdout
    slots = copies(project)
    assert list(slots) == [joint_slot] and len(slots[joint_slot]) == 1
    assert slots[joint_slot] != joint_copies
    one_copy = copy_size(project)

    # another model is another slot; under a cap for one copy, the least recently used goes
    numeric = [*QUERY, "--model-id", "num-portfolio-core-v1"]
    room_for_one = {"PORTFOLIO_VECTOR_CACHE_MAX_SIZE": str(one_copy + one_copy // 2)}
    assert cli(project, *numeric, env=room_for_one).returncode == 0
    (numeric_slot, numeric_copies), *others = copies(project).items()
    assert others == [] and numeric_slot != joint_slot and len(numeric_copies) == 1

    # a copy larger than the cap is not written, and the answer is the same
    tiny = cli(project, *QUERY, env={"PORTFOLIO_VECTOR_CACHE_MAX_SIZE": "1K"})
    assert tiny.returncode == 0 and tiny.stdout == after.stdout
    assert copies(project) == {numeric_slot: numeric_copies}

    assert_one_line_error(
        cli(project, *QUERY, env={"PORTFOLIO_VECTOR_CACHE_MAX_SIZE": "lots"}),
        "PORTFOLIO_VECTOR_CACHE_MAX_SIZE must be a size such as 4GB",
    )
