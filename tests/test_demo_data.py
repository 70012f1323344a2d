"""The demo generator: contract columns, determinism, never touching an existing table,
the styles and stress episode it records in metadata, and that the vectors recover them."""

from __future__ import annotations

import json

import duckdb
import numpy as np
from conftest import demo_data, make_project

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


def test_metadata_records_style_and_stress_never_a_feature(tmp_path):
    path = tmp_path / "d.duckdb"
    demo_data.create_reports(str(path), portfolios=200)
    stress = demo_data.stress_date(demo_data.DEFAULT_DATES)
    assert stress == "2024-10-31"
    with duckdb.connect(str(path), read_only=True) as con:
        reports = con.execute(
            "select portfolio_id, cast(as_of_date as varchar), cast(metadata as varchar), "
            "concat(risk_metrics, exposures_by_sector, exposures_by_factor) "
            "from portfolio_risk_reports"
        ).fetchall()
    names = {style.name for style in demo_data.STYLES}
    style_of = {}
    for pid, day, metadata, features in reports:
        meta = json.loads(metadata)
        assert list(meta) == ["source", "seed", "style", "stressed"]
        assert meta["source"] == "demo" and meta["seed"] == 7 and meta["style"] in names
        assert meta["stressed"] is (day == stress and int(pid[1:]) % 5 == 0)
        assert style_of.setdefault(pid, meta["style"]) == meta["style"]  # fixed over dates
        assert meta["style"] not in features and "stressed" not in features
    assert set(style_of.values()) == names and len(demo_data.STYLES) == 8
    assert sum(json.loads(m)["stressed"] for _, _, m, _ in reports) >= 40


def test_stress_date_is_the_middle_of_the_sorted_dates():
    assert demo_data.stress_date(["2025-01-31"]) == "2025-01-31"
    assert demo_data.stress_date(["2025-01-31", "2024-11-30", "2024-12-31"]) == "2024-12-31"
    assert demo_data.stress_date(list(reversed(demo_data.DEFAULT_DATES))) == "2024-10-31"


def test_stress_episode_is_a_drawdown_of_the_stressed_portfolios_only(tmp_path):
    path = tmp_path / "d.duckdb"
    demo_data.create_reports(str(path), portfolios=300, messy=False)
    with duckdb.connect(str(path), read_only=True) as con:
        ratios = dict(
            con.execute(
                """
                with metric as (
                    select portfolio_id, as_of_date,
                           max(cast(risk_metrics ->> 'var_95' as double)) as var_95,
                           bool_or(cast(metadata ->> 'stressed' as boolean)) as stressed
                    from portfolio_risk_reports group by all
                ),
                stressed_portfolios as (
                    select distinct portfolio_id from metric where stressed
                )
                select portfolio_id in (select * from stressed_portfolios),
                       avg(case when as_of_date = '2024-10-31' then var_95 end)
                       / avg(case when as_of_date = '2024-09-30' then var_95 end)
                from metric group by 1
                """
            ).fetchall()
        )
        drawdowns = con.execute(
            "select count(*) filter (where (risk_metrics ->> 'SET_A:max_drawdown') is not null), "
            "count(*) from portfolio_risk_reports where (metadata ->> 'stressed') = 'true'"
        ).fetchone()
    assert ratios[True] > 3 and 0.9 < ratios[False] < 1.1
    assert drawdowns[0] == drawdowns[1] > 0  # every stressed report shows a drawdown


def purity_at_10(project, model_id: str) -> float:
    """Same-date neighbour purity@10 by style of the stored vectors, brute force."""
    rows = project.query(
        """
        select cast(e.as_of_date as varchar), r.metadata ->> 'style', e.vector
        from main.numeric_window_embeddings as e
        inner join main.portfolio_risk_reports as r
            on r.report_id = (e.window_spec ->> 'report_id')
        where e.model_id = ?
        """,
        [model_id],
    )
    shares = []
    for day in {d for d, _, _ in rows}:
        styles = np.array([s for d, s, _ in rows if d == day])
        vectors = np.array([np.frombuffer(v, "<f4") for d, _, v in rows if d == day])
        distances = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
        np.fill_diagonal(distances, np.inf)
        nearest = np.argsort(distances, axis=1)[:, :10]
        shares.append((styles[nearest] == styles[:, None]).mean(axis=1))
    return float(np.concatenate(shares).mean())


def test_the_vectors_recover_the_styles(tmp_path):
    """Far above the 1/8 of unrelated labels: floor 0.7 for both cards on a small demo,
    and v2 (scaled) above v1 (bench/bench_quality.py measures the make-run demo)."""
    project = make_project(tmp_path, portfolios=240, dates=["2025-01-31"], seed=3)
    purity = {}
    for model_id in ("num-portfolio-core-v1", "num-portfolio-core-v2"):
        assert project.run({"model_id": model_id}).ok
        purity[model_id] = purity_at_10(project, model_id)
    v1, v2 = purity["num-portfolio-core-v1"], purity["num-portfolio-core-v2"]
    assert v1 > 0.7 and v2 > v1, purity
