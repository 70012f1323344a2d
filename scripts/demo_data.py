"""Deterministic demo risk reports: `main.portfolio_risk_reports` in a DuckDB file.

    python scripts/demo_data.py --db portfolio_embeddings.duckdb
    python scripts/demo_data.py --db big.duckdb --portfolios 1000000 --dates 2025-01-31

The table is created only when it is absent; an existing one is never touched. Rows are
generated in DuckDB SQL from hash(seed, portfolio, date, key) (no RNG stream, no
per-row Python), so the same arguments give the same table, and a million reports take
seconds.

What is in it (the columns and types of the input contract):
- every portfolio follows one of the eight STYLES (tech_growth, energy_value, ...): its
  sector mix, factor tilts and risk levels, plus noise per report and a slow drift per
  portfolio from date to date. The style is recorded in `metadata`, never in a feature:
  {"source": "demo", "seed": 7, "style": "tech_growth", "stressed": false};
- a stress episode: on stress_date(dates) (2024-10-31 for the default dates) every
  portfolio whose number is a multiple of STRESS_EVERY (P00005, P00010, ...) has its
  risk metrics jump as in a drawdown (volatility, VaR, CVaR, scenario VaR, tracking
  error, drawdowns and fragility up, hit rate down); `stressed` is true on those reports;
- risk_metrics: always expected_volatility, risk_window_days (21/63/126/252) and
  n_positions (5-120), both unrelated to the style, var_95, cvar_95 and the boolean
  is_leveraged; for some portfolios fragility_score_max/_mean, scenario_var_95, beta,
  tracking_error and dynamic keys SET_A:max_drawdown, SET_B:max_drawdown, SET_C:hit_rate;
- exposures_by_sector: 8-11 of 11 sectors; exposures_by_factor: 5-10 of 10 factors (a
  style's own sectors and marked tilts are always present);
- about 3% of (portfolio, date) have a second, newer report (other noise, same style);
  P00001's first date has two reports with the SAME created_at (the greater report_id
  must win);
- messy entries on the LAST date, at the portfolios of MESSY_PORTFOLIOS (unless
  --no-messy).
"""

from __future__ import annotations

import argparse
import sys
from typing import NamedTuple

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
STRESS_EVERY = 5  # portfolios whose number is a multiple of this are stressed


class Style(NamedTuple):
    """One investment style: the sector mix, factor tilts and risk levels its
    portfolios scatter around (values outside `sectors` / `factors` are small)."""

    name: str
    sectors: dict[str, float]
    factors: dict[str, float]
    volatility: float
    beta: float
    tracking_error: float
    leveraged_share: float
    fragility: float


STYLES = (
    Style("tech_growth", {"Information Technology": 0.45, "Communication Services": 0.2,
          "Consumer Discretionary": 0.15}, {"growth": 1.5, "momentum": 0.8, "value": -1.2,
          "yield": -0.8}, 0.28, 1.25, 0.07, 0.2, 0.5),
    Style("energy_value", {"Energy": 0.4, "Materials": 0.2, "Industrials": 0.15},
          {"value": 1.5, "yield": 0.9, "growth": -1.0}, 0.24, 1.05, 0.06, 0.15, 0.45),
    Style("defensive_income", {"Utilities": 0.25, "Consumer Staples": 0.25,
          "Health Care": 0.2, "Real Estate": 0.1}, {"yield": 1.6, "low_vol": 1.4,
          "quality": 0.6, "beta": -1.0}, 0.10, 0.6, 0.03, 0.05, 0.2),
    Style("levered_momentum", {"Information Technology": 0.2, "Consumer Discretionary": 0.2,
          "Financials": 0.15, "Industrials": 0.15}, {"momentum": 1.8, "beta": 1.0,
          "reversal": -1.0, "liquidity": -0.6}, 0.34, 1.5, 0.09, 0.95, 0.7),
    Style("market_neutral", {}, {"low_vol": 0.4, "reversal": 0.4}, 0.06, 0.05, 0.02, 0.5, 0.3),
    Style("financials_quality", {"Financials": 0.45, "Real Estate": 0.1, "Industrials": 0.1},
          {"quality": 1.2, "value": 0.6, "size": -0.4}, 0.18, 1.0, 0.04, 0.1, 0.35),
    Style("small_cap_value", {"Industrials": 0.2, "Financials": 0.2,
          "Consumer Discretionary": 0.15, "Materials": 0.1}, {"size": 1.6, "value": 0.8,
          "liquidity": -1.2}, 0.22, 1.15, 0.08, 0.1, 0.55),
    Style("global_balanced", {"Information Technology": 0.2, "Health Care": 0.13,
          "Financials": 0.12, "Industrials": 0.1, "Consumer Discretionary": 0.1},
          {"quality": 0.5, "low_vol": 0.3}, 0.14, 0.95, 0.02, 0.05, 0.25),
)  # fmt: skip
SMALL_WEIGHT = 0.02  # a sector outside a style's mix


def _by_style(values) -> str:
    """SQL for the value of the state's style, from one value per style."""
    return f"[{', '.join(repr(float(v)) for v in values)}][style + 1]"


def _times_in_stress(factor: float) -> str:
    """SQL for a risk metric's multiplier: `factor` in the stress episode, else 1."""
    return f"(case when stressed then {factor} else 1 end)"


def _plus_in_stress(shift: float) -> str:
    """SQL for a risk metric's shift: `shift` in the stress episode, else 0."""
    return f"(case when stressed then {shift} else 0 end)"


def _level(field: str) -> str:
    return _by_style([getattr(style, field) for style in STYLES])


def _risk_metrics() -> tuple:
    """(key, presence SQL, value SQL given {u} per state, {p} per portfolio, {w} a drift
    direction in [-0.5, 0.5) per portfolio): style levels, noise, drift and stress."""
    vol = f"{_level('volatility')} * (1 + 0.03 * k * {{w}})"
    return (
        ("expected_volatility", "1", f"{vol} * (0.85 + 0.3 * {{u}}) * {_times_in_stress(3)}"),
        ("risk_window_days", "1", "[21, 63, 126, 252][1 + cast(floor({p} * 4) as integer)]"),
        ("n_positions", "1", "5 + cast(floor({p} * 116) as integer)"),
        ("var_95", "1", f"{vol} * 0.33 * (0.9 + 0.2 * {{u}}) * {_times_in_stress(4)}"),
        ("cvar_95", "1", f"{vol} * 0.45 * (0.9 + 0.2 * {{u}}) * {_times_in_stress(4.5)}"),
        ("is_leveraged", "1", f"{{p}} < {_level('leveraged_share')}"),
        ("fragility_score_max", "0.8",
         f"least(1, {_level('fragility')} * (0.8 + 0.4 * {{u}}) + {_plus_in_stress(0.4)})"),
        ("fragility_score_mean", "0.8",
         f"{_level('fragility')} * (0.4 + 0.2 * {{u}}) + {_plus_in_stress(0.3)}"),
        ("scenario_var_95", "0.5", f"{vol} * 0.7 * (0.9 + 0.2 * {{u}}) * {_times_in_stress(3.5)}"),
        ("beta", "0.6", f"({_level('beta')} + 0.1 * ({{u}} - 0.5)) * {_times_in_stress(1.3)}"),
        ("tracking_error", "0.5",
         f"{_level('tracking_error')} * (0.8 + 0.4 * {{u}}) * {_times_in_stress(2.5)}"),
        # a drawdown is reported by every stressed portfolio
        ("SET_A:max_drawdown", "(case when stressed then 1 else 0.4 end)",
         f"-{vol} * 0.9 * (0.8 + 0.4 * {{u}}) * {_times_in_stress(3)}"),
        ("SET_B:max_drawdown", "(case when stressed then 1 else 0.3 end)",
         f"-{vol} * 0.7 * (0.8 + 0.4 * {{u}}) * {_times_in_stress(3)}"),
        ("SET_C:hit_rate", "0.25", f"(0.3 + 0.5 * {{u}}) * {_times_in_stress(0.5)}"),
    )  # fmt: skip


def _sector_entries() -> list[tuple[str, str, str]]:
    """Each sector around its style weight (always present when the style holds it)."""
    entries = []
    for sector in SECTORS:
        weights = [style.sectors.get(sector, SMALL_WEIGHT) for style in STYLES]
        presence = _by_style([1.0 if w >= 0.1 else 0.85 for w in weights])
        noisy = f"{_by_style(weights)} + 0.06 * ({{u}} - 0.5) + 0.015 * k * {{w}}"
        value = f"round(greatest(0, {noisy}), 4)"
        entries.append((sector, presence, value))
    return entries


def _factor_entries() -> list[tuple[str, str, str]]:
    """Each factor around its style tilt (always present when the tilt is marked)."""
    entries = []
    for factor in FACTORS:
        tilts = [style.factors.get(factor, 0.0) for style in STYLES]
        presence = _by_style([1.0 if abs(t) >= 0.8 else 0.75 for t in tilts])
        value = f"round({_by_style(tilts)} + 0.8 * ({{u}} - 0.5) + 0.08 * k * {{w}}, 4)"
        entries.append((factor, presence, value))
    return entries


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


def _json_object_sql(seed: int, entries, scope: str) -> str:
    """SQL for a JSON object whose keys are present with the given probabilities (SQL,
    per portfolio: a portfolio keeps its keys from date to date)."""
    items = []
    for key, presence, value_sql in entries:
        tag = f"'{scope}:{key}"
        value = value_sql.format(
            u="(" + _uniform(seed, "i", "d", tag + ":value'") + ")",
            p="(" + _uniform(seed, "i", tag + ":portfolio'") + ")",
            w="(" + _uniform(seed, "i", tag + ":drift'") + " - 0.5)",
        )
        u_present = _uniform(seed, "i", f"'{scope}:{key}:present'")
        items.append(
            f"{{'k': '{key}', 'v': case when {u_present} < {presence} then to_json({value}) end}}"
        )
    return f"to_json(map_from_entries(list_filter([{', '.join(items)}], x -> x.v is not null)))"


def _id_width(portfolios: int) -> int:
    # lpad truncates, so the width grows with the count: P00001 ... P1000000
    return max(5, len(str(portfolios)))


def stress_date(dates) -> str:
    """The date of the stress episode: the middle one of the sorted dates (the earlier
    of the two middle ones for an even count: 2024-10-31 for the default dates)."""
    ordered = sorted(dates)
    return ordered[(len(ordered) - 1) // 2]


def _states_sql(seed: int, portfolios: int, dates: list[str]) -> str:
    """SQL for the states: portfolio number i, date d, its position k among the sorted
    dates, the portfolio's style (fixed over dates) and whether it is stressed."""
    days = ", ".join(f"{{'d': date '{d}', 'k': {k}}}" for k, d in enumerate(sorted(dates)))
    return f"""
        select
            i,
            day.d as d,
            day.k as k,
            cast(hash({seed}, i, 'style') % {len(STYLES)} as integer) as style,
            day.d = date '{stress_date(dates)}' and i % {STRESS_EVERY} = 0 as stressed
        from range(1, {portfolios} + 1) as portfolio(i), unnest([{days}]) as days(day)
    """


def _reports_sql(seed: int, portfolios: int, dates: list[str], version: int) -> str:
    width = _id_width(portfolios)
    values_seed = seed + version  # a second report has other noise, the same style
    risk = _json_object_sql(values_seed, _risk_metrics(), "risk")
    sectors = _json_object_sql(values_seed, _sector_entries(), "sector")
    factors = _json_object_sql(values_seed, _factor_entries(), "factor")
    style_names = "[" + ", ".join(f"'{style.name}'" for style in STYLES) + "][style + 1]"
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
            1e6 * (1 + {_uniform(values_seed, "i", "d", "'pv'")}),
            1e5 * {_uniform(values_seed, "i", "d", "'cash'")},
            {_uniform(values_seed, "i", "d", "'net'")},
            1 + {_uniform(values_seed, "i", "d", "'gross'")},
            1 + 2 * {_uniform(values_seed, "i", "d", "'lev'")},
            {risk}, null, {sectors}, {factors},
            to_json({{'source': 'demo', 'seed': {seed}, 'style': {style_names},
                      'stressed': stressed}}),
            cast(d as timestamp) + interval 1 day
                + case when {version} = 1 or {tie} then interval 0 hour else interval 2 hour end
        from ({_states_sql(seed, portfolios, dates)}) as states
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
