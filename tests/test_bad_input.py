"""Bad input never stops a run nor corrupts a key (embedded target; the PostgreSQL
cases are in test_bad_input_postgres.py).

Each bad report or entry of the corpus is planted among six good states in a DuckDB
file of its own. Every good state must come out byte for byte as in a file without the
planted rows (a vector under a wrong key is the failure no consumer could detect), the
planted rows must be in portfolio_feature_rejects with their reason, and a re-run must
change nothing. A source with unusable column types, and malformed vars, stop the run
before anything is written.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field

import duckdb
import pytest
from conftest import PROJECT_DIR, make_project

DATE = "2025-01-31"
JSON_COLUMNS = ("risk_metrics", "exposures_by_sector", "exposures_by_factor")
COLUMN_TYPES = {
    "report_id": "varchar",
    "portfolio_id": "varchar",
    "as_of_date": "date",
    "portfolio_value": "double",
    "cash": "double",
    "net_exposure": "double",
    "gross_exposure": "double",
    "leverage": "double",
    "risk_metrics": "json",
    "scenario_pnl": "json",
    "exposures_by_sector": "json",
    "exposures_by_factor": "json",
    "metadata": "json",
    "created_at": "timestamp with time zone",
}
VECTORS = (
    "select entity_id, as_of_date, vector, window_spec from main.numeric_window_embeddings "
    "order by entity_id, as_of_date"
)
SNAPSHOT = [
    "select * exclude (embedding_id) from main.numeric_window_embeddings order by all",
    "select * exclude (joint_id) from main.joint_embeddings order by all",
    "select * from main.portfolio_feature_rejects order by all",
]


def report(portfolio_id, report_id=None, *, beta=1.0, created="2025-02-01 08:00:00+00", **cols):
    """One source row; the JSON columns as text, the rest as given."""
    n = int(portfolio_id[1:]) if portfolio_id and portfolio_id[1:].isdigit() else 9
    row = {
        "report_id": f"R-{portfolio_id}" if report_id is None else report_id,
        "portfolio_id": portfolio_id,
        "as_of_date": DATE,
        "risk_metrics": json.dumps({"beta": beta, "expected_volatility": 0.1 * n}),
        "exposures_by_sector": json.dumps({"Energy": 0.05 * n, "Utilities": 0.3}),
        "exposures_by_factor": json.dumps({"momentum": -0.2 * n}),
        "created_at": created,
    }
    row.update(cols)
    return row


GOOD = [report(f"G0{i}", beta=0.5 + i / 10) for i in range(1, 7)]


def load(project, rows, types: dict | None = None) -> None:
    """A source table with COLUMN_TYPES, changed by `types` (a type, or None: no column)."""
    types = {name: kind for name, kind in {**COLUMN_TYPES, **(types or {})}.items() if kind}
    columns = ", ".join(f"{name} {kind}" for name, kind in types.items())
    names = list(types)
    placeholders = ", ".join(f"cast(? as {types[name]})" for name in names)
    project.execute(f"create or replace table main.portfolio_risk_reports ({columns})")
    with duckdb.connect(str(project.db_path)) as con:
        con.executemany(
            f"insert into main.portfolio_risk_reports values ({placeholders})",
            [[row.get(name) for name in names] for row in rows],
        )


def run_ok(project, vars=None):
    result = project.run(vars)
    assert result.ok, result.output
    return result


def snapshot(project):
    return [project.query(sql) for sql in SNAPSHOT]


@pytest.fixture(scope="module")
def good_vectors(tmp_path_factory):
    """The good states' rows from a file without any planted row."""
    project = make_project(tmp_path_factory.mktemp("good"))
    load(project, GOOD)
    run_ok(project)
    return {(row[0], str(row[1])): row[2:] for row in project.query(VECTORS)}


@dataclass
class Case:
    rows: list
    rejects: set  # {(portfolio_id, report_id, reason)} that must be recorded
    encoded: set = field(default_factory=set)  # extra portfolio_ids that get a vector
    types: dict = field(default_factory=dict)


TEXT = {column: "varchar" for column in JSON_COLUMNS}
CASES = {
    "truncated_json_text": Case(
        [report("G07", risk_metrics='{"a": 1,')],
        {("G07", "R-G07", "malformed_json")},
        encoded={"G07"},
        types=TEXT,
    ),
    "text_that_is_not_json": Case(
        [report("G07", exposures_by_factor="not json")],
        {("G07", "R-G07", "malformed_json")},
        encoded={"G07"},
        types=TEXT,
    ),
    "a_repeated_key": Case(
        [report("G07", risk_metrics='{"beta": 1, "beta": 2, "expected_volatility": 0.7}')],
        {("G07", "R-G07", "duplicate_key")},
        encoded={"G07"},
    ),
    "a_blank_portfolio_id": Case(
        [report(" ", "R-blank")], {(" ", "R-blank", "invalid_portfolio_id")}
    ),
    "a_whitespace_portfolio_id": Case(
        [report("\t\n", "R-tabs")], {("\t\n", "R-tabs", "invalid_portfolio_id")}
    ),
    "a_null_portfolio_id": Case(
        [report(None, "R-null-pid")], {(None, "R-null-pid", "invalid_portfolio_id")}
    ),
    "a_portfolio_id_of_65_characters": Case(
        [report("G" * 65, "R-long")], {("G" * 65, "R-long", "invalid_portfolio_id")}
    ),
    "a_nul_in_a_portfolio_id": Case(
        [report("G0\x007", "R-nul")], {("G0\x007", "R-nul", "invalid_portfolio_id")}
    ),
    "a_null_as_of_date": Case(
        [report("G07", as_of_date=None)], {("G07", "R-G07", "missing_as_of_date")}
    ),
    "a_null_report_id": Case(
        # a new portfolio's only report, and a newer report of a good state
        [report("G07", ""), report("G03", "", created="2025-02-02 08:00:00+00")],
        {("G07", None, "missing_report_id"), ("G03", None, "missing_report_id")},
    ),
    "one_report_id_on_two_rows": Case(
        # two portfolios, and two newer rows of one good state
        [
            report("G07", "R-shared"),
            report("G08", "R-shared"),
            report("G03", "R-G03-twice", beta=9.0, created="2025-02-02 08:00:00+00"),
            report("G03", "R-G03-twice", beta=8.0, created="2025-02-03 08:00:00+00"),
        ],
        {
            ("G07", "R-shared", "duplicate_report_id"),
            ("G08", "R-shared", "duplicate_report_id"),
            ("G03", "R-G03-twice", "duplicate_report_id"),
        },
    ),
    "a_null_created_at_on_the_greatest_report_id": Case(
        # ranks oldest: G03 keeps the vector of its dated report
        [report("G03", "R-G03-undated", beta=9.0, created=None)],
        set(),
    ),
    "a_quote_in_a_portfolio_id": Case([report("G'07", "R-quote")], set(), encoded={"G'07"}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_row_is_rejected_and_every_good_state_keeps_its_bytes(tmp_path, good_vectors, name):
    case = CASES[name]
    # a null report_id is written as '' above and nulled here (report() fills None)
    rows = [
        {**row, "report_id": None} if row["report_id"] == "" else row for row in GOOD + case.rows
    ]
    project = make_project(tmp_path)
    load(project, rows, case.types)
    run_ok(project)

    stored = {(row[0], str(row[1])): row[2:] for row in project.query(VECTORS)}
    for key, good in good_vectors.items():
        assert stored.get(key) == good, f"{name}: the good state {key} changed"
    extra = {key[0] for key in stored} - {key[0] for key in good_vectors}
    assert extra == case.encoded

    rejects = set(
        project.query("select portfolio_id, report_id, reason from main.portfolio_feature_rejects")
    )
    assert case.rejects <= rejects, rejects

    before = snapshot(project)
    run_ok(project)
    assert snapshot(project) == before, "a re-run changed something"


def test_malformed_json_is_recorded_with_its_text_and_report(tmp_path):
    project = make_project(tmp_path)
    text = '{"a": 1, "long": "' + "x" * 500
    load(project, GOOD + [report("G07", risk_metrics=text)], TEXT)
    run_ok(project)
    ((raw, report_id, group),) = project.query(
        "select raw_value, report_id, feature_group from main.portfolio_feature_rejects "
        "where reason = 'malformed_json'"
    )
    assert (raw, report_id, group) == (text[:200], "R-G07", "risk_metrics")


def test_the_last_of_a_repeated_key_counts_and_the_earlier_are_rejected(tmp_path):
    project = make_project(tmp_path)
    repeated = '{"beta": 1, "beta": 2, "expected_volatility": 0.7}'
    last_only = '{"beta": 2, "expected_volatility": 0.7}'
    sector = {"exposures_by_sector": None, "exposures_by_factor": None}
    rows = [report("G07", risk_metrics=repeated, **sector)]
    load(project, rows + [report("G08", risk_metrics=last_only, **sector)])
    run_ok(project)
    vectors = dict(project.query("select entity_id, vector from main.numeric_window_embeddings"))
    assert vectors["G07"] == vectors["G08"]
    spec = dict(
        project.query(
            "select entity_id, window_spec ->> 'n_features' from main.numeric_window_embeddings"
        )
    )
    assert spec["G07"] == "2"
    assert project.query(
        "select feature_key, entry_position, raw_value from main.portfolio_feature_rejects "
        "where reason = 'duplicate_key'"
    ) == [("beta", 1, "1")]


@pytest.mark.parametrize(
    ("column", "kind", "message"),
    [
        ("as_of_date", "timestamp", "as_of_date has type TIMESTAMP; expected DATE"),
        ("created_at", "varchar", "created_at has type VARCHAR; expected a TIMESTAMP"),
        ("portfolio_id", "integer", "portfolio_id has type INTEGER; expected text"),
        ("exposures_by_factor", None, "has no column exposures_by_factor"),
    ],
)
def test_an_unusable_source_column_stops_the_run_before_any_write(tmp_path, column, kind, message):
    project = make_project(tmp_path)
    load(project, GOOD)
    run_ok(project)
    before = snapshot(project)

    rows = GOOD + [report("G07", created="2025-02-01 09:00:00+00")]
    if column == "portfolio_id":
        rows = [{**row, "portfolio_id": str(100 + i)} for i, row in enumerate(rows)]
    load(project, rows, {column: kind})
    result = project.run()
    assert not result.ok
    assert message in result.output, result.output
    assert snapshot(project) == before


def test_a_missing_source_table_names_the_file(tmp_path):
    project = make_project(tmp_path)
    result = project.run()
    assert not result.ok
    assert "Source table main.portfolio_risk_reports not found" in result.output
    assert str(project.db_path) in result.output


@pytest.mark.parametrize(
    ("vars", "name"),
    [
        ({"limit": 99999999999999999999999}, "limit"),
        ({"limit": 0}, "limit"),
        ({"portfolio_ids": []}, "portfolio_ids"),
        ({"portfolio_ids": ""}, "portfolio_ids"),
        ({"as_of": ""}, "as_of"),
        ({"start_date": ""}, "start_date"),
    ],
)
def test_an_empty_or_out_of_range_var_fails_before_any_write(tmp_path, vars, name):
    project = make_project(tmp_path)
    load(project, GOOD)
    run_ok(project)
    before = snapshot(project)
    result = project.run(vars)
    assert not result.ok
    assert f"Invalid var '{name}'" in result.output, result.output
    assert snapshot(project) == before


def test_quotes_nul_and_sql_in_portfolio_ids_never_change_a_statement(tmp_path):
    project = make_project(tmp_path)
    tricky = "G'07; drop table main.portfolio_risk_reports; --"
    load(project, GOOD + [report(tricky, "R-tricky")])
    run_ok(project, {"portfolio_ids": [tricky, "G0\x001", "G02"]})
    stored = project.query("select entity_id from main.numeric_window_embeddings")
    assert sorted(stored) == sorted([("G02",), (tricky,)])
    assert project.query("select count(*) from main.portfolio_risk_reports") == [(7,)]


def test_make_run_on_a_missing_file_names_it_and_makes_no_file(tmp_path):
    missing = tmp_path / "rsik.duckdb"
    done = subprocess.run(
        ["make", "-s", "-C", str(PROJECT_DIR), "run", f"PORTFOLIO_DUCKDB_PATH={missing}"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"{missing} does not exist" in done.stderr
    assert not missing.exists()
