"""The demo generator: contract columns, determinism, never touching an existing table."""

from __future__ import annotations

import duckdb
from conftest import demo_data

CONTRACT = {
    "report_id": "VARCHAR",
    "portfolio_id": "VARCHAR",
    "as_of_date": "DATE",
    "portfolio_value": "DOUBLE",
    "cash": "DOUBLE",
    "net_exposure": "DOUBLE",
    "gross_exposure": "DOUBLE",
    "leverage": "DOUBLE",
    "risk_metrics": "JSON",
    "scenario_pnl": "JSON",
    "exposures_by_sector": "JSON",
    "exposures_by_factor": "JSON",
    "metadata": "JSON",
    "created_at": "TIMESTAMP WITH TIME ZONE",
}


def rows(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select * from main.portfolio_risk_reports order by report_id"
        ).fetchall()


def test_contract_columns_and_types(tmp_path):
    path = tmp_path / "d.duckdb"
    assert demo_data.create_reports(str(path), portfolios=30) is not None
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'portfolio_risk_reports' order by ordinal_position"
        ).fetchall()
    assert dict(columns) == CONTRACT and [c[0] for c in columns] == list(CONTRACT)


def test_same_seed_same_rows_other_seed_other_rows(tmp_path):
    for name, seed in [("a", 7), ("b", 7), ("c", 8)]:
        demo_data.create_reports(str(tmp_path / f"{name}.duckdb"), portfolios=25, seed=seed)
    assert rows(tmp_path / "a.duckdb") == rows(tmp_path / "b.duckdb")
    assert rows(tmp_path / "a.duckdb") != rows(tmp_path / "c.duckdb")


def test_existing_table_is_left_untouched(tmp_path):
    path = tmp_path / "mine.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table main.portfolio_risk_reports (report_id varchar)")
        con.execute("insert into main.portfolio_risk_reports values ('mine')")
    assert demo_data.create_reports(str(path), portfolios=10) is None
    assert rows(path) == [("mine",)]


def test_duplicates_ties_messy_entries_and_varying_keys(tmp_path):
    path = tmp_path / "d.duckdb"
    demo_data.create_reports(str(path), portfolios=200)
    with duckdb.connect(str(path), read_only=True) as con:
        q = con.execute
        duplicated = q(
            "select count(*) from (select portfolio_id, as_of_date from portfolio_risk_reports "
            "group by all having count(*) > 1)"
        ).fetchone()[0]
        ties = q(
            "select count(*) from (select portfolio_id, as_of_date, created_at "
            "from portfolio_risk_reports group by all having count(*) > 1)"
        ).fetchone()[0]
        key_sets = q(
            "select count(distinct list_sort(json_keys(risk_metrics))) from portfolio_risk_reports"
        ).fetchone()[0]
        last = max(demo_data.DEFAULT_DATES)
        messy = dict(
            q(
                "select portfolio_id, cast(risk_metrics as varchar) || ' ' || "
                "coalesce(cast(exposures_by_sector as varchar), 'NULL') || ' ' || "
                "coalesce(cast(exposures_by_factor as varchar), 'NULL') "
                "from portfolio_risk_reports where as_of_date = ?",
                [last],
            ).fetchall()
        )
    assert duplicated >= 3 and ties >= 1 and key_sets > 20
    m = demo_data.MESSY_PORTFOLIOS
    assert '"liquidity_bucket":"n/a"' in messy[m["string_value"]]
    assert '"beta":null' in messy[m["null_value"]]
    assert '"stress":{"x":1}' in messy[m["object_value"]]
    assert '"momentum":[1,2]' in messy[m["array_value"]]
    assert '"NaN"' in messy[m["non_finite_strings"]]
    assert "1e308" in messy[m["huge_number"]].lower() or "1e+308" in messy[m["huge_number"]]
    assert messy[m["empty_report"]] == "{} NULL NULL"
    assert " [0.1, 0.2] " in messy[m["sector_array"]]
    assert messy[m["factor_scalar"]].endswith(" 5")


def test_cli_reports_what_it_did(tmp_path, capsys):
    path = str(tmp_path / "cli.duckdb")
    assert demo_data.main(["--db", path, "--portfolios", "5", "--dates", "2025-01-31"]) == 0
    assert "created main.portfolio_risk_reports" in capsys.readouterr().out
    assert demo_data.main(["--db", path]) == 0
    assert "left untouched" in capsys.readouterr().out
