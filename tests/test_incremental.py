"""Daily runs on the embedded target: a run encodes only what changed, keeps one row per
current state, and leaves every other row byte-identical (real DuckDB files, real dbt)."""

from __future__ import annotations

import pytest
from conftest import SMALL_DEMO, make_project

LAST_DATE = SMALL_DEMO["dates"][-1]
NUMERIC = "select * exclude (embedding_id) from main.numeric_window_embeddings order by all"
JOINT = "select * exclude (joint_id) from main.joint_embeddings order by all"
REJECTS = "select * from main.portfolio_feature_rejects order by all"


def snapshot(project) -> dict[str, list]:
    return {name: project.query(sql) for name, sql in [("numeric", NUMERIC), ("joint", JOINT),
                                                        ("rejects", REJECTS)]}  # fmt: skip


def by_state(rows, *, key=(1, 3)) -> dict[tuple, tuple]:
    """Numeric rows (entity_type, entity_id, window_spec, as_of_date, ...) by state."""
    return {tuple(row[i] for i in key): row for row in rows}


def winning_report(project, portfolio_id: str, as_of: str = LAST_DATE) -> str:
    (report_id,) = project.query(
        "select window_spec ->> 'report_id' from main.numeric_window_embeddings "
        "where entity_id = ? and as_of_date = ?",
        [portfolio_id, as_of],
    )[0]
    return report_id


@pytest.fixture
def encoded(tmp_path):
    project = make_project(tmp_path, **SMALL_DEMO)
    result = project.run()
    assert result.ok, result.output
    return project


def test_a_rerun_with_nothing_changed_changes_no_byte(encoded):
    before = snapshot(encoded)
    assert all(before.values())
    result = encoded.run()
    assert result.ok, result.output
    assert snapshot(encoded) == before  # created_at and found_at included
    assert encoded.query("select count(*) from main.int_portfolio_states_to_encode") == [(0,)]


def test_a_changed_report_rewrites_exactly_its_key(encoded):
    before = by_state(encoded.query(NUMERIC))
    # P00002: same report_id and created_at, other content; P00004: a newer report
    encoded.execute(
        "update main.portfolio_risk_reports set risk_metrics = "
        "json_object('expected_volatility', 0.33) "
        f"where report_id = '{winning_report(encoded, 'P00002')}'"
    )
    encoded.execute(
        "insert into main.portfolio_risk_reports select * replace ("
        "'R-new-P00004' as report_id, created_at + interval 1 day as created_at) "
        f"from main.portfolio_risk_reports where report_id = '{winning_report(encoded, 'P00004')}'"
    )
    assert encoded.run().ok
    after = by_state(encoded.query(NUMERIC))
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {("P00002", _date(LAST_DATE)), ("P00004", _date(LAST_DATE))}
    assert after.keys() == before.keys()
    assert '"report_id":"R-new-P00004"' in after[("P00004", _date(LAST_DATE))][2]
    assert after[("P00004", _date(LAST_DATE))][5] == before[("P00004", _date(LAST_DATE))][5]


def test_a_new_report_without_usable_features_removes_the_old_rows(encoded):
    encoded.execute(
        "insert into main.portfolio_risk_reports select * replace ("
        "'R-empty-P00003' as report_id, created_at + interval 1 day as created_at, "
        "json_object('note', 'n/a') as risk_metrics, null as exposures_by_sector, "
        "null as exposures_by_factor) "
        f"from main.portfolio_risk_reports where report_id = '{winning_report(encoded, 'P00003')}'"
    )
    assert encoded.run().ok
    where = f"entity_id = 'P00003' and as_of_date = '{LAST_DATE}'"
    assert encoded.query(f"select * from main.numeric_window_embeddings where {where}") == []
    assert (
        encoded.query(
            "select * from main.joint_embeddings "
            f"where entity_scope ->> 'portfolio_id' = 'P00003' and as_of_date = '{LAST_DATE}'"
        )
        == []
    )
    reasons = encoded.query(
        "select report_id, reason from main.portfolio_feature_rejects "
        f"where portfolio_id = 'P00003' and as_of_date = '{LAST_DATE}' order by reason"
    )
    assert reasons == [("R-empty-P00003", "no_usable_features"), ("R-empty-P00003", "string_value")]
    # recorded: the next run has nothing to do for it
    settled = snapshot(encoded)
    assert encoded.run().ok
    assert snapshot(encoded) == settled


def test_a_narrow_run_keeps_the_other_states_rejects(encoded):
    rejects = encoded.query(REJECTS)
    assert {row[0] for row in rejects} - {"P00002"}, "the demo has rejects elsewhere"
    result = encoded.run({"portfolio_ids": ["P00002"], "rebuild": True})
    assert result.ok, result.output
    others = [row for row in encoded.query(REJECTS) if row[0] != "P00002"]
    assert others == [row for row in rejects if row[0] != "P00002"]


def test_rebuild_rewrites_every_selected_state_with_the_same_bytes(encoded):
    before = by_state(encoded.query(NUMERIC))
    assert encoded.run({"rebuild": True, "as_of": LAST_DATE}).ok
    after = by_state(encoded.query(NUMERIC))
    for key, row in after.items():
        assert row[5] == before[key][5]  # the vector's bytes
        if str(key[1]) == LAST_DATE:
            assert row[7] > before[key][7]  # written again
        else:
            assert row == before[key]


def test_a_row_of_another_card_definition_is_re_encoded(encoded):
    encoded.execute(
        "update main.numeric_window_embeddings set window_spec = json_merge_patch("
        'window_spec, \'{"encoder_spec_hash": "an-older-definition"}\') '
        f"where entity_id = 'P00005' and as_of_date = '{LAST_DATE}'"
    )
    stale = by_state(encoded.query(NUMERIC))
    assert encoded.run().ok
    after = by_state(encoded.query(NUMERIC))
    assert {key for key in after if after[key] != stale[key]} == {("P00005", _date(LAST_DATE))}
    assert "an-older-definition" not in after[("P00005", _date(LAST_DATE))][2]


def test_a_bad_joint_model_id_writes_nothing(encoded):
    encoded.execute(
        "update main.portfolio_risk_reports set risk_metrics = json_object('beta', 2) "
        f"where report_id = '{winning_report(encoded, 'P00002')}'"
    )
    before = snapshot(encoded)
    result = encoded.run({"joint_model_id": "nope"})
    assert not result.ok
    assert "unknown joint model_id 'nope'" in result.output
    assert snapshot(encoded) == before


def test_a_date_range_selects_its_states(encoded):
    first, middle, last = SMALL_DEMO["dates"]
    assert encoded.run({"rebuild": True, "start_date": middle, "end_date": last}).ok
    rewritten = encoded.query(
        "select distinct cast(as_of_date as varchar) from main.numeric_window_embeddings "
        "where created_at = (select max(created_at) from main.numeric_window_embeddings)"
    )
    assert sorted(day for (day,) in rewritten) == [middle, last]
    clash = encoded.run({"as_of": last, "start_date": middle})
    assert not clash.ok and "Invalid var 'as_of'" in clash.output
    backwards = encoded.run({"start_date": last, "end_date": first})
    assert not backwards.ok and "Invalid var 'end_date'" in backwards.output


def _date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)
