"""Deterministic demo risk reports: `main.portfolio_risk_reports` in a DuckDB file.

    python scripts/demo_data.py --db portfolio_embeddings.duckdb
    python scripts/demo_data.py --db big.duckdb --portfolios 1000000 --dates 2025-01-31

The table is created only when it is absent; an existing one is never touched. Rows are
generated in DuckDB SQL from hash(seed, portfolio, date, key) (no RNG stream, no
per-row Python), so the same arguments give the same table, and a million reports take
seconds.

What is in it (the columns and types of the input contract):
- risk_metrics: always expected_volatility, risk_window_days (21/63/126/252), var_95,
  cvar_95 and the boolean is_leveraged; for some portfolios fragility_score_max/_mean,
  scenario_var_95, beta, tracking_error and dynamic keys SET_A:max_drawdown,
  SET_B:max_drawdown, SET_C:hit_rate;
- exposures_by_sector: 8-11 of 11 sectors; exposures_by_factor: 5-10 of 10 factors;
- about 3% of (portfolio, date) have a second, newer report; P00001's first date has
  two reports with the SAME created_at (the greater report_id must win);
- messy entries on the LAST date, at the portfolios of MESSY_PORTFOLIOS (unless
  --no-messy).
"""

from __future__ import annotations

import argparse
import sys

import duckdb

TABLE = "main.portfolio_risk_reports"
DEFAULT_DATES = ("2024-08-31", "2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31", "2025-01-31")
SECTORS = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)
FACTORS = (
    "momentum",
    "value",
    "size",
    "quality",
    "low_vol",
    "growth",
    "yield",
    "liquidity",
    "beta",
    "reversal",
)
# (key, presence probability, SQL for the value given {u}, a uniform in [0, 1))
RISK_METRICS = (
    ("expected_volatility", 1.0, "0.05 + 0.35 * {u}"),
    ("risk_window_days", 1.0, "[21, 63, 126, 252][1 + cast(floor({u} * 4) as integer)]"),
    ("var_95", 1.0, "0.01 + 0.09 * {u}"),
    ("cvar_95", 1.0, "0.015 + 0.12 * {u}"),
    ("is_leveraged", 1.0, "{u} < 0.3"),
    ("fragility_score_max", 0.8, "{u}"),
    ("fragility_score_mean", 0.8, "0.5 * {u}"),
    ("scenario_var_95", 0.5, "0.02 + 0.2 * {u}"),
    ("beta", 0.6, "0.5 + {u}"),
    ("tracking_error", 0.5, "0.1 * {u}"),
    ("SET_A:max_drawdown", 0.4, "-0.5 * {u}"),
    ("SET_B:max_drawdown", 0.3, "-0.4 * {u}"),
    ("SET_C:hit_rate", 0.25, "0.3 + 0.5 * {u}"),
)
MESSY_PORTFOLIOS = {
    "string_value": "P00002",  # risk_metrics.liquidity_bucket = "n/a"
    "null_value": "P00003",  # risk_metrics.beta = null
    "object_value": "P00004",  # risk_metrics.stress = {"x": 1}
    "array_value": "P00005",  # exposures_by_factor.momentum = [1, 2]
    "non_finite_strings": "P00006",  # risk_metrics.nan_metric = "NaN", inf_metric = "Infinity"
    "huge_number": "P00007",  # risk_metrics.tail_exposure = 1e308 (finite double)
    "sector_array": "P00008",  # exposures_by_sector = [0.1, 0.2] (not an object)
    "factor_scalar": "P00009",  # exposures_by_factor = 5 (not an object)
    "empty_report": "P00010",  # risk_metrics = {}, both exposures null
}
MESSY_UPDATES = (
    (
        "string_value",
        'risk_metrics = json_merge_patch(risk_metrics, \'{"liquidity_bucket": "n/a"}\')',
    ),
    (
        "null_value",
        # json_merge_patch drops keys set to null, so the null is written as text
        "risk_metrics = cast(replace(cast(json_merge_patch(risk_metrics, '{\"beta\": 0}') "
        "as varchar), '\"beta\":0', '\"beta\":null') as json)",
    ),
    ("object_value", 'risk_metrics = json_merge_patch(risk_metrics, \'{"stress": {"x": 1}}\')'),
    (
        "array_value",
        "exposures_by_factor = json_merge_patch(exposures_by_factor, '{\"momentum\": [1, 2]}')",
    ),
    (
        "non_finite_strings",
        "risk_metrics = json_merge_patch(risk_metrics, "
        '\'{"nan_metric": "NaN", "inf_metric": "Infinity"}\')',
    ),
    ("huge_number", "risk_metrics = json_merge_patch(risk_metrics, '{\"tail_exposure\": 1e308}')"),
    ("sector_array", "exposures_by_sector = '[0.1, 0.2]'"),
    ("factor_scalar", "exposures_by_factor = '5'"),
    ("empty_report", "risk_metrics = '{}', exposures_by_sector = null, exposures_by_factor = null"),
)

DDL = f"""
create table {TABLE} (
    report_id           varchar primary key,
    portfolio_id        varchar not null,
    as_of_date          date not null,
    portfolio_value     double not null,
    cash                double not null,
    net_exposure        double not null,
    gross_exposure      double not null,
    leverage            double not null,
    risk_metrics        json not null,
    scenario_pnl        json,
    exposures_by_sector json,
    exposures_by_factor json,
    metadata            json,
    created_at          timestamp with time zone not null
)
"""


def _uniform(seed: int, *parts: str) -> str:
    """SQL for a deterministic uniform in [0, 1) from hash(seed, parts...)."""
    return f"(hash({seed}, {', '.join(parts)}) % 1000000) / 1000000.0"


def _json_object_sql(seed: int, entries: list[tuple[str, float, str]], scope: str) -> str:
    """SQL for a JSON object whose keys are present with the given probabilities."""
    items = []
    for key, presence, value_sql in entries:
        u_value = _uniform(seed, "i", "d", f"'{scope}:{key}:value'")
        u_present = _uniform(seed, "i", f"'{scope}:{key}:present'")
        value = value_sql.format(u=f"({u_value})")
        items.append(
            f"{{'k': '{key}', 'v': case when {u_present} < {presence} then to_json({value}) end}}"
        )
    return f"to_json(map_from_entries(list_filter([{', '.join(items)}], x -> x.v is not null)))"


def _id_width(portfolios: int) -> int:
    # lpad truncates, so the width grows with the count: P00001 ... P1000000
    return max(5, len(str(portfolios)))


def _reports_sql(seed: int, portfolios: int, dates: list[str], version: int) -> str:
    width = _id_width(portfolios)
    risk = _json_object_sql(seed + version, list(RISK_METRICS), "risk")
    sectors = _json_object_sql(
        seed + version, [(s, 0.85, "round({u}, 4)") for s in SECTORS], "sector"
    )
    factors = _json_object_sql(
        seed + version, [(f, 0.75, "round(4 * {u} - 2, 4)") for f in FACTORS], "factor"
    )
    date_list = ", ".join(f"date '{d}'" for d in dates)
    # P00001 on the first date: a second report with the SAME created_at (tie)
    tie = f"(i = 1 and d = date '{min(dates)}')"
    u_dup = _uniform(seed, "i", "d", "'dup'")
    duplicated = "" if version == 1 else f"where {u_dup} < 0.03 or {tie}"
    return f"""
        select
            'R-P' || lpad(cast(i as varchar), {width}, '0') || '-' || strftime(d, '%Y%m%d')
                || '-{version}',
            'P' || lpad(cast(i as varchar), {width}, '0'),
            d,
            1e6 * (1 + {_uniform(seed + version, "i", "d", "'pv'")}),
            1e5 * {_uniform(seed + version, "i", "d", "'cash'")},
            {_uniform(seed + version, "i", "d", "'net'")},
            1 + {_uniform(seed + version, "i", "d", "'gross'")},
            1 + 2 * {_uniform(seed + version, "i", "d", "'lev'")},
            {risk}, null, {sectors}, {factors},
            to_json({{'source': 'demo', 'seed': {seed}}}),
            cast(d as timestamp) + interval 1 day
                + case when {version} = 1 or {tie} then interval 0 hour else interval 2 hour end
        from range(1, {portfolios} + 1) as portfolio(i), unnest([{date_list}]) as dates(d)
        {duplicated}
    """


def create_reports(
    con_or_path,
    *,
    portfolios: int = 300,
    dates=DEFAULT_DATES,
    seed: int = 7,
    messy: bool = True,
) -> dict | None:
    """Create and fill the table if absent; counts, or None when it already existed."""
    con = duckdb.connect(con_or_path) if isinstance(con_or_path, str) else con_or_path
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'main' and table_name = 'portfolio_risk_reports'"
        ).fetchone()[0]
        if exists:
            return None
        dates = list(dates)
        con.execute("begin")
        con.execute(DDL)
        for version in (1, 2):
            con.execute(f"insert into {TABLE} {_reports_sql(seed, portfolios, dates, version)}")
        if messy:
            for name, assignment in MESSY_UPDATES:
                # the latest report of the portfolio on the last date
                con.execute(
                    f"update {TABLE} set {assignment} where report_id = ("
                    f"select max(report_id) from {TABLE} "
                    "where portfolio_id = ? and as_of_date = ?)",
                    [f"P{int(MESSY_PORTFOLIOS[name][1:]):0{_id_width(portfolios)}d}", max(dates)],
                )
        con.execute("commit")
        rows = con.execute(f"select count(*) from {TABLE}").fetchone()[0]
        return {"rows": rows, "portfolios": portfolios, "dates": len(dates)}
    finally:
        if isinstance(con_or_path, str):
            con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="DuckDB file (created if missing)")
    parser.add_argument("--portfolios", type=int, default=300)
    parser.add_argument("--dates", default=",".join(DEFAULT_DATES), help="comma-separated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-messy", action="store_true", help="leave out the messy entries")
    args = parser.parse_args(argv)
    created = create_reports(
        args.db,
        portfolios=args.portfolios,
        dates=args.dates.split(","),
        seed=args.seed,
        messy=not args.no_messy,
    )
    if created is None:
        print(f"{args.db}: {TABLE} already exists, left untouched")
    else:
        print(
            f"{args.db}: created {TABLE} with {created['rows']} reports "
            f"({created['portfolios']} portfolios x {created['dates']} dates, some duplicated)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
