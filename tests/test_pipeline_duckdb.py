"""End to end on the embedded target: real DuckDB files, real `dbt` invocations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import SMALL_DEMO, demo_data, make_project

from portfolio_embeddings.project import project_vars
from python_encoders import get_card, reference_encode_one

DEFAULT_MODEL_ID = project_vars()["model_id"]
GROUP_COLUMNS = {
    "risk_metrics": "risk_metrics",
    "sector": "exposures_by_sector",
    "factor": "exposures_by_factor",
}


def expected_states(project) -> dict[tuple[str, str], tuple[str, dict[str, float]]]:
    """(portfolio_id, as_of_date) -> (winning report_id, usable features), computed in
    plain Python from the source table: an independent path to the same answer."""
    rows = project.query(
        """
        select portfolio_id, cast(as_of_date as varchar), report_id, created_at,
               cast(risk_metrics as varchar), cast(exposures_by_sector as varchar),
               cast(exposures_by_factor as varchar)
        from main.portfolio_risk_reports
        """
    )
    latest = {}
    for pid, day, report_id, created_at, *docs in rows:
        key = (pid, day)
        if key not in latest or (created_at, report_id) > latest[key][:2]:
            latest[key] = (created_at, report_id, docs)
    states = {}
    for key, (_, report_id, docs) in latest.items():
        features = {}
        for group, doc in zip(GROUP_COLUMNS, docs, strict=True):
            parsed = json.loads(doc) if doc is not None else None
            if not isinstance(parsed, dict):
                continue
            for name, value in parsed.items():
                usable = isinstance(value, (int, float)) and math.isfinite(float(value))
                if isinstance(value, bool) or usable:
                    features[f"{group}:{name}"] = float(value)
        states[key] = (report_id, features)
    return states


def stored_rows(project, model_id=DEFAULT_MODEL_ID):
    return project.query(
        """
        select entity_id, cast(as_of_date as varchar), cast(window_spec as varchar), vector
        from main.numeric_window_embeddings
        where entity_type = 'PORTFOLIO' and model_id = ?
        order by entity_id, as_of_date
        """,
        [model_id],
    )


def test_one_row_per_state_with_features_and_vectors_match_reference(built_demo):
    expected = expected_states(built_demo)
    rows = stored_rows(built_demo)
    with_features = {k: v for k, v in expected.items() if v[1]}
    assert {(pid, day) for pid, day, _, _ in rows} == set(with_features)
    card = get_card(DEFAULT_MODEL_ID)
    for pid, day, spec, vector in rows:
        report_id, features = with_features[(pid, day)]
        assert len(vector) == 1536
        got = np.frombuffer(vector, dtype="<f4")
        assert np.all(np.isfinite(got))
        want = reference_encode_one(card, features)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        spec = json.loads(spec)
        assert spec["entity_type"] == "PORTFOLIO"
        assert spec["window_days"] == 1
        assert spec["report_id"] == report_id
        assert spec["encoder_spec_hash"] == card.spec_hash
        assert spec["n_features"] == len(features)


def test_latest_report_wins_including_created_at_ties(built_demo):
    duplicated = built_demo.query(
        """
        select portfolio_id, cast(as_of_date as varchar),
               arg_max(report_id, (created_at, report_id)) as winner
        from main.portfolio_risk_reports
        group by all
        having count(*) > 1
        """
    )
    ties = built_demo.query(
        """
        select count(*) from (
            select portfolio_id, as_of_date, created_at from main.portfolio_risk_reports
            group by all having count(*) > 1)
        """
    )[0][0]
    assert duplicated and ties >= 1, "the demo data must exercise duplicates and ties"
    stored = {
        (pid, day): json.loads(spec)["report_id"] for pid, day, spec, _ in stored_rows(built_demo)
    }
    for pid, day, winner in duplicated:
        if (pid, day) in stored:
            assert stored[(pid, day)] == winner


def test_messy_entries_are_rejected_with_reasons(built_demo):
    rejects = built_demo.query(
        "select portfolio_id, feature_group, feature_key, raw_value, reason "
        "from main.portfolio_feature_rejects"
    )
    reasons = {r[4] for r in rejects}
    assert {
        "string_value",
        "null_value",
        "object_value",
        "array_value",
        "not_a_json_object",
        "no_usable_features",
    } <= reasons
    empty = demo_data.MESSY_PORTFOLIOS["empty_report"]
    assert any(r[0] == empty and r[4] == "no_usable_features" for r in rejects)
    # a state with no usable feature gets no vector
    last_date = SMALL_DEMO["dates"][-1]
    assert not built_demo.query(
        "select 1 from main.numeric_window_embeddings where entity_id = ? and as_of_date = ?",
        [empty, last_date],
    )
    # every rejected entry is accounted for: source entries = features + entry rejects
    n_features = built_demo.query("select count(*) from main.int_portfolio_features")[0][0]
    n_entry_rejects = built_demo.query(
        "select count(*) from main.portfolio_feature_rejects where feature_key is not null"
    )[0][0]
    n_entries = sum(
        len(json.loads(doc))
        for (doc,) in built_demo.query(
            """
            select cast(doc as varchar) from main.int_portfolio_states,
                unnest([risk_metrics, exposures_by_sector, exposures_by_factor]) as t(doc)
            where json_type(doc) = 'OBJECT'
            """
        )
    )
    assert n_features + n_entry_rejects == n_entries


def test_huge_values_are_tamed_not_written_as_inf(built_demo):
    huge = demo_data.MESSY_PORTFOLIOS["huge_number"]
    rows = built_demo.query(
        "select vector from main.numeric_window_embeddings where entity_id = ?", [huge]
    )
    assert rows
    for (vector,) in rows:
        assert np.all(np.isfinite(np.frombuffer(vector, dtype="<f4")))


def test_rerun_is_idempotent(built_demo):
    before = built_demo.query(
        "select entity_id, as_of_date, model_id, vector from main.numeric_window_embeddings "
        "order by all"
    )
    result = built_demo.run()
    assert result.ok, result.output
    after = built_demo.query(
        "select entity_id, as_of_date, model_id, vector from main.numeric_window_embeddings "
        "order by all"
    )
    assert after == before


def test_dbt_build_runs_every_data_and_unit_test(built_demo):
    # The shipped seed lists the full demo's states (2024-10-31), which this small demo
    # has not: such a reference fails the run by design (tests/test_references.py).
    result = built_demo.dbt(
        "build", "--select", "portfolio_embeddings", "--exclude", "reference_states"
    )
    assert result.ok, result.output
    assert "ERROR=0" in result.output
    assert "unit_test" in result.output or "unit test" in result.output


@pytest.mark.parametrize(
    ("vars", "var_name"),
    [
        ({"as_of": "2025-13-01"}, "as_of"),
        ({"as_of": "31/01/2025"}, "as_of"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"portfolio_ids": [1, 2]}, "portfolio_ids"),
        ({"model_id": ""}, "model_id"),
        ({"joint_model_id": ""}, "joint_model_id"),
        ({"joint_model_id": "no spaces allowed"}, "joint_model_id"),
    ],
)
def test_bad_vars_fail_before_anything_is_written(built_demo, vars, var_name):
    before = built_demo.query("select * from main.numeric_window_embeddings order by all")
    result = built_demo.run(vars)
    assert not result.ok
    assert f"Invalid var '{var_name}'" in result.output
    assert built_demo.query("select * from main.numeric_window_embeddings order by all") == before


def test_unknown_model_id_lists_known_ones_and_writes_nothing(built_demo):
    before = built_demo.query("select * from main.numeric_window_embeddings order by all")
    result = built_demo.run({"model_id": "num-portfolio-nope"})
    assert not result.ok
    assert "num-portfolio-nope" in result.output
    assert DEFAULT_MODEL_ID in result.output
    assert built_demo.query("select * from main.numeric_window_embeddings order by all") == before


def test_vars_select_date_limit_and_portfolios(tmp_path):
    project = make_project(tmp_path, **SMALL_DEMO)
    result = project.run({"as_of": "2024-12-31", "limit": 3})
    assert result.ok, result.output
    rows = project.query(
        "select entity_id, cast(as_of_date as varchar) "
        "from main.numeric_window_embeddings order by 1"
    )
    all_ids = [
        r[0]
        for r in project.query(
            "select distinct portfolio_id from main.portfolio_risk_reports "
            "where as_of_date = '2024-12-31' order by 1 limit 3"
        )
    ]
    assert rows == [(pid, "2024-12-31") for pid in all_ids]

    result = project.run({"portfolio_ids": ["P00007", "P00009"], "as_of": "2025-01-31"})
    assert result.ok, result.output
    assert project.query(
        "select entity_id from main.numeric_window_embeddings "
        "where as_of_date = '2025-01-31' order by 1"
    ) == [("P00007",), ("P00009",)]
    # a second model_id lives beside the first under its own keys
    result = project.run({"as_of": "2024-12-31", "limit": 3, "model_id": "num-portfolio-pad-v0"})
    assert result.ok, result.output
    counts = dict(
        project.query("select model_id, count(*) from main.numeric_window_embeddings group by 1")
    )
    assert counts == {DEFAULT_MODEL_ID: 5, "num-portfolio-pad-v0": 3}


OTHER_WRITERS = """
insert into main.numeric_window_embeddings
    (entity_type, entity_id, window_spec, as_of_date, model_id, vector, vector_ref, created_at)
values
    ('INSTRUMENT', 'AAPL', '{"entity_type": "INSTRUMENT", "window_days": 20}', '2025-01-31',
     'num-instrument-v3', '\\x01\\x02'::blob, null, '2024-06-01 00:00:00+00'),
    ('PORTFOLIO', 'P00001', '{"entity_type": "PORTFOLIO", "window_days": 1}', '2025-01-31',
     'num-portfolio-experimental', '\\x03'::blob, null, '2024-06-01 00:00:00+00'),
    ('PORTFOLIO', 'P00001', '{"entity_type": "PORTFOLIO", "window_days": 1}', '2019-12-31',
     'num-portfolio-core-v1', null, 's3://old/vector', '2024-06-01 00:00:00+00')
"""


def test_shared_table_other_rows_untouched_full_refresh_included(tmp_path):
    project = make_project(tmp_path, **SMALL_DEMO)
    # the platform created the table (embedding_id from a sequence) and others wrote to it
    project.execute(
        "create sequence main.platform_seq start 1000;"
        "create table main.numeric_window_embeddings ("
        " embedding_id bigint primary key default nextval('main.platform_seq'),"
        " entity_type varchar(32) not null, entity_id varchar(64) not null,"
        " window_spec json not null, as_of_date date not null, model_id varchar(64) not null,"
        " vector blob, vector_ref varchar(255),"
        " created_at timestamptz not null default current_timestamp);" + OTHER_WRITERS
    )
    others_sql = (
        "select * from main.numeric_window_embeddings "
        "where entity_type <> 'PORTFOLIO' or model_id <> 'num-portfolio-core-v1' "
        "or as_of_date < '2020-01-01' order by embedding_id"
    )
    others = project.query(others_sql)
    assert len(others) == 3

    result = project.run()
    assert result.ok, result.output
    assert project.query(others_sql) == others
    ours = project.query(
        "select embedding_id, entity_id, as_of_date, vector from main.numeric_window_embeddings "
        "where model_id = 'num-portfolio-core-v1' and as_of_date >= '2020-01-01' order by all"
    )
    assert ours and all(row[0] >= 1003 for row in ours)  # ids come from the platform's sequence

    result = project.run(None, "--full-refresh")
    assert result.ok, result.output
    assert project.query(others_sql) == others
    again = project.query(
        "select entity_id, as_of_date, vector from main.numeric_window_embeddings "
        "where model_id = 'num-portfolio-core-v1' and as_of_date >= '2020-01-01' order by all"
    )
    assert again == [row[1:] for row in ours]


def test_a_write_that_fails_leaves_the_shared_table_as_it_was(tmp_path):
    """The keyed replace is one transaction: a row the table refuses half-way (a check
    planted on one report_id) rolls back the delete and every insert, and no batch
    table is left behind."""
    project = make_project(tmp_path, **SMALL_DEMO)
    project.execute(
        "create table main.numeric_window_embeddings ("
        " embedding_id bigint, entity_type varchar(32) not null,"
        " entity_id varchar(64) not null, window_spec json not null,"
        " as_of_date date not null, model_id varchar(64) not null, vector blob,"
        " vector_ref varchar(255), created_at timestamptz not null default current_timestamp,"
        " check (json_extract_string(window_spec, '$.report_id') <> 'REFUSED'))"
    )
    assert project.run().ok
    table = "select * from main.numeric_window_embeddings order by all"
    before = project.query(table)
    assert len(before) > 50
    # P00002's winning report on the last date is renamed to what the table refuses
    project.execute(
        f"""
        update main.portfolio_risk_reports set report_id = 'REFUSED'
        where report_id = (
            select json_extract_string(window_spec, '$.report_id')
            from main.numeric_window_embeddings
            where entity_id = 'P00002' and as_of_date = '{SMALL_DEMO["dates"][-1]}')
        """
    )
    result = project.dbt("run", "--select", "+numeric_window_embeddings")
    assert not result.ok
    assert "REFUSED" in result.output or "CHECK" in result.output.upper()
    assert project.query(table) == before
    assert (
        project.query("select table_name from duckdb_tables() where table_name like '%dbt%'") == []
    )


def test_vector_space_checks_fail_on_a_mixed_table_and_a_missing_joint_row(tmp_path):
    project = make_project(tmp_path, **SMALL_DEMO)
    assert project.run().ok
    spec_check = "test_name:one_value_per_group"
    joint_check = "assert_joint_rows_follow_their_numeric_rows"
    assert project.dbt("test", "--select", spec_check, joint_check).ok
    # a row of another card definition under the same model_id: two spaces mixed
    project.execute(
        "update main.numeric_window_embeddings set window_spec = json_object("
        "'entity_type', 'PORTFOLIO', 'window_days', 1, 'encoder_spec_hash', 'other') "
        "where entity_id = 'P00003'"
    )
    mixed = project.dbt("test", "--select", spec_check)
    assert not mixed.ok and "FAIL 1 one_value_per_group" in mixed.output, mixed.output
    # a joint row lost: the joint space no longer follows the numeric rows
    project.execute(
        "delete from main.joint_embeddings where entity_scope->>'portfolio_id' = 'P00004'"
    )
    lost = project.dbt("test", "--select", joint_check)
    assert not lost.ok and f"FAIL {len(SMALL_DEMO['dates'])} {joint_check}" in lost.output, (
        lost.output
    )


def test_source_freshness_warns_on_stale_reports_and_passes_on_fresh_ones(tmp_path):
    project = make_project(tmp_path, **SMALL_DEMO)
    stale = project.dbt("source", "freshness")
    assert stale.ok, stale.output
    assert "WARN freshness of portfolio_risk.portfolio_risk_reports" in stale.output
    project.execute("update main.portfolio_risk_reports set created_at = current_timestamp")
    fresh = project.dbt("source", "freshness")
    assert fresh.ok, fresh.output
    assert "PASS freshness of portfolio_risk.portfolio_risk_reports" in fresh.output


def test_absent_output_table_is_created_with_platform_shape(built_demo):
    columns = built_demo.query(
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'numeric_window_embeddings' order by ordinal_position"
    )
    assert [c[0] for c in columns] == [
        "embedding_id",
        "entity_type",
        "entity_id",
        "window_spec",
        "as_of_date",
        "model_id",
        "vector",
        "vector_ref",
        "created_at",
    ]
    assert built_demo.query(
        "select count(*) = count(distinct embedding_id) from main.numeric_window_embeddings"
    ) == [(True,)]


def test_joint_rows_match_numeric_rows_byte_for_byte(built_demo):
    joint = built_demo.query(
        "select entity_scope->>'portfolio_id', cast(as_of_date as varchar), vector, "
        "joint_type, entity_scope->>'source_model_id' from main.joint_embeddings "
        "where model_id = 'joint-portfolio-core-v1' order by 1, 2"
    )
    numeric = built_demo.query(
        "select entity_id, cast(as_of_date as varchar), vector from main.numeric_window_embeddings "
        "where model_id = 'num-portfolio-core-v1' and entity_type = 'PORTFOLIO' order by 1, 2"
    )
    assert [row[:3] for row in joint] == numeric
    assert {row[3:] for row in joint} == {("PORTFOLIO_CORE_V0", "num-portfolio-core-v1")}
    # a re-run (done by test_rerun_is_idempotent, or here) never duplicates joint keys
    assert built_demo.run().ok
    assert built_demo.query("select count(*) from main.joint_embeddings")[0][0] == len(numeric)


def test_docs_generate_and_everything_is_described(built_demo):
    result = built_demo.dbt("docs", "generate")
    assert result.ok, result.output
    target = built_demo.work_dir / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    undescribed = []
    for kind in ("nodes", "sources"):
        for uid, node in manifest[kind].items():
            if node["resource_type"] not in ("model", "source"):
                continue
            if not node.get("description"):
                undescribed.append(uid)
            documented = {c.lower() for c, col in node["columns"].items() if col.get("description")}
            in_database = {c.lower() for c in catalog[kind].get(uid, {}).get("columns", {})}
            undescribed += [f"{uid}.{c}" for c in sorted(in_database - documented)]
    assert undescribed == []
