"""`fit-scales`: fit a scaled card's per-feature scales over a date range of the tidy
features, and write them as a scales file (python_encoders.scales).

dbt builds the tidy features of every state in the range (the models up to
int_portfolio_features, with rebuild: nothing is skipped as already encoded), then one
query reads, per feature name, how many values it has and four quantiles of them;
python_encoders.scales turns those into scales. Nothing is written to the marts; the
intermediate tables hold the fit's states until the next `dbt run`, which rebuilds them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys

import numpy as np

from portfolio_embeddings.cli import options
from portfolio_embeddings.project import profiles_dir
from python_encoders.scales import QUANTILES, fit_scales, scales_text

ESTIMATOR = (
    "per feature name: IQR of signed_log1p(value) over its present values / 1.349 "
    "(else the 1%-99% range / 4.653), quantiles as observed values (inverted CDF); "
    "names with fewer than 20 values or no spread get default_scale, the median scale"
)
_QUANTILES_SQL = ", ".join(f"quantile_disc(feature_value, {q})" for q in QUANTILES)


def add_parser(subparsers) -> None:
    parser = options.command(
        subparsers,
        "fit-scales",
        "fit a scaled card's per-feature scales over a date range of the tidy features",
        ["portfolio-embeddings fit-scales --start 2024-08-31 --end 2025-01-31 --out s.json"],
        "dbt builds the tidy features of the range (nothing is written to the output "
        "tables); the file is what a scaled card (python_encoders/card_data) reads.",
    )
    parser.add_argument("--start-date", "--start", dest="start_date", required=True,
                        type=options.iso_date, metavar="YYYY-MM-DD",
                        help="first date of the fit (inclusive)")  # fmt: skip
    parser.add_argument("--end-date", "--end", dest="end_date", required=True,
                        type=options.iso_date, metavar="YYYY-MM-DD",
                        help="last date of the fit (inclusive)")  # fmt: skip
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="the scales file to write (JSON; its folder must exist)")  # fmt: skip
    options.add_common(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from dbt.cli.main import dbtRunner

    if args.end_date < args.start_date:
        raise options.UsageError(f"--end-date {args.end_date} is before --start-date")
    out = options.output_file(args.out, "--out").resolve()
    project = options.project_dir(args)
    # the profile's relative paths (the DuckDB file) are relative to the project folder
    os.chdir(project)
    dbt_vars = {"start_date": args.start_date, "end_date": args.end_date, "rebuild": True}
    common = ["--vars", json.dumps(dbt_vars), "--project-dir", str(project),
              "--target", args.target, "--profiles-dir", str(profiles_dir(project))]  # fmt: skip
    runner = dbtRunner()
    built = runner.invoke(["run", "--select", "+int_portfolio_features", "--quiet", *common])
    if not built.success:
        print("fit-scales: dbt could not build the tidy features (see above)", file=sys.stderr)
        return 1
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # dbt show prints its rows: not for the user
        shown = runner.invoke(
            ["show", "--inline", per_name_sql(), "--limit", "-1", "--quiet", *common]
        )
    if not shown.success:
        print(printed.getvalue(), file=sys.stderr)
        print("fit-scales: the feature statistics query failed (see above)", file=sys.stderr)
        return 1
    # one JSON text per name: agate would turn doubles into Decimals (1e308 included)
    rows = [json.loads(row[0]) for row in shown.result.results[0].agate_table.rows]
    if not rows:
        raise options.UsageError(
            f"no usable features between {args.start_date} and {args.end_date}"
        )
    names = [row["name"] for row in rows]
    counts = np.array([row["values"] for row in rows], dtype=np.int64)
    quantiles = np.array([row["quantiles"] for row in rows], dtype=np.float64)
    scales, left_out = fit_scales(names, counts, quantiles)
    provenance = {
        "command": (
            f"portfolio-embeddings fit-scales --start-date {args.start_date} "
            f"--end-date {args.end_date}"
        ),
        "dates": [rows[0]["first_date"], rows[0]["last_date"]],
        "estimator": ESTIMATOR,
        "states": rows[0]["states"],
        "default_scale_names": left_out,
    }
    out.write_text(scales_text(scales, provenance))
    print(
        f"wrote {args.out}: {len(scales.by_name)} scales from {provenance['states']} states "
        f"({provenance['dates'][0]} to {provenance['dates'][1]}), default scale "
        f"{scales.default} for {len(left_out)} other name(s)"
    )
    return 0


def per_name_sql() -> str:
    """One row per feature name, as JSON text: its count of values, their quantiles,
    and the range's states and dates."""
    return f"""
with features as (
    select feature_name, feature_value, portfolio_id, as_of_date
    from {{{{ ref('int_portfolio_features') }}}}
),
range_totals as (
    select
        count(distinct (portfolio_id, as_of_date)) as n_states,
        cast(min(as_of_date) as varchar) as first_date,
        cast(max(as_of_date) as varchar) as last_date
    from features
),
per_name as (
    select
        feature_name,
        count(*) as n_values,
        [{_QUANTILES_SQL}] as quantiles
    from features
    group by feature_name
)
select
    cast(to_json({{
        'name': per_name.feature_name,
        'values': per_name.n_values,
        'quantiles': per_name.quantiles,
        'states': range_totals.n_states,
        'first_date': range_totals.first_date,
        'last_date': range_totals.last_date
    }}) as varchar) as stats
from per_name
cross join range_totals
order by per_name.feature_name
"""
