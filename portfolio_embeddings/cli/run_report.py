"""What a backfill run did, from its own outputs, not from what the shared tables hold
for the dates:

- selected: the rows of int_portfolio_states (the run's selection, a view compiled with
  the run's vars);
- re-encoded: int_portfolio_states_to_encode (the run's table of the states it wrote);
- encoded: those states whose numeric row now carries their fingerprint; the others
  got a tombstone (no usable feature);
- new / replaced / deleted: those states against the keys stored before the run (read
  just before dbt starts, restricted to the run's dates and portfolios);
- rejected: the rejects of those states for their fingerprint (the run replaced them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from portfolio_embeddings.cli import hints
from portfolio_embeddings.cli.database import Tables
from portfolio_embeddings.cli.options import UsageError
from python_encoders import get_joint_card

KEYS = ("portfolio_id", "as_of_date")


@dataclass(frozen=True)
class Selection:
    """The run's vars, as the backfill's flags set them."""

    as_of: str | None
    start: str | None
    end: str | None
    portfolio_ids: tuple[str, ...] | None
    limit: int | None
    model_id: str
    joint_model_id: str
    rebuild: bool

    def dbt_vars(self) -> dict:
        ids = list(self.portfolio_ids) if self.portfolio_ids else None
        found = {"as_of": self.as_of, "start_date": self.start, "end_date": self.end,
                 "limit": self.limit, "model_id": self.model_id, "portfolio_ids": ids,
                 "joint_model_id": self.joint_model_id, "rebuild": self.rebuild}  # fmt: skip
        return {name: value for name, value in found.items() if value is not None}

    def predicate(self, portfolio_id_sql: str) -> tuple[str, list]:
        """SQL over as_of_date and the portfolio id expression: the run's dates and
        portfolios (not its limit, which needs the winners)."""
        parts, params = ["true"], []
        for value, test in ((self.as_of, "="), (self.start, ">="), (self.end, "<=")):
            if value:
                parts.append(f"as_of_date {test} cast(? as date)")
                params.append(value)
        if self.portfolio_ids:
            marks = ", ".join("?" * len(self.portfolio_ids))
            parts.append(f"{portfolio_id_sql} in ({marks})")
            params += list(self.portfolio_ids)
        return " and ".join(parts), params

    def dates_text(self) -> str:
        if self.as_of:
            return self.as_of
        return f"{self.start or 'the first date'} to {self.end or 'the last date'}"

    @property
    def joint_follows(self) -> bool:
        return get_joint_card(self.joint_model_id).sources == (self.model_id,)


def matching_reports(tables: Tables, selection: Selection) -> int:
    """The reports on the run's dates for its portfolios; an unknown portfolio_id (no
    report on any date) is a UsageError that names the closest ids."""
    reports = tables.name("portfolio_risk_reports")
    con = tables.con
    if selection.portfolio_ids:
        wanted = list(dict.fromkeys(selection.portfolio_ids))
        known = {pid for (pid,) in con.execute(
            f"select distinct portfolio_id from {reports} where portfolio_id in "
            f"({', '.join('?' * len(wanted))})", wanted).fetchall()}  # fmt: skip
        unknown = [pid for pid in wanted if pid not in known]
        if unknown:
            close = hints.close_ids(con, f"select portfolio_id from {reports}", [], unknown[0])
            raise UsageError(f"no report of portfolio {unknown[0]!r} on any date; close ids: "
                             f"{hints.listing(close)}")  # fmt: skip
    where, params = selection.predicate("portfolio_id")
    return con.execute(f"select count(*) from {reports} where {where}", params).fetchone()[0]


def nothing_to_do(tables: Tables, selection: Selection) -> str:
    """The message for a selection without reports: the nearest dates that have some."""
    reports = tables.name("portfolio_risk_reports")
    source, params = f"select as_of_date from {reports}", []
    whose = ""
    if selection.portfolio_ids:
        source += f" where portfolio_id in ({', '.join('?' * len(selection.portfolio_ids))})"
        params = list(selection.portfolio_ids)
        whose = " for " + ", ".join(selection.portfolio_ids)
    asked = [day for day in (selection.as_of, selection.start, selection.end) if day]
    near = hints.nearest_dates(tables.con, source, params, asked)
    return (f"nothing to do: no reports on {selection.dates_text()}{whose}; nearest dates "
            f"with reports: {hints.listing(near)}")  # fmt: skip


def stored_keys(tables: Tables, selection: Selection) -> dict[str, pa.Table]:
    """The keys stored under the run's models for its dates and portfolios, before it."""
    found = {}
    spaces = {
        "numeric_window_embeddings": ("entity_id", "entity_type = 'PORTFOLIO' and model_id = ?",
                                      selection.model_id),
        "joint_embeddings": ("(entity_scope ->> 'portfolio_id')", "model_id = ?",
                             selection.joint_model_id),
    }  # fmt: skip
    for table, (pid, model_filter, model_id) in spaces.items():
        if not tables.exists(table):
            found[table] = pa.table({"portfolio_id": pa.array([], pa.string()),
                                     "as_of_date": pa.array([], pa.date32())})  # fmt: skip
            continue
        where, params = selection.predicate(pid)
        found[table] = tables.con.execute(
            f"select {pid} as portfolio_id, as_of_date from {tables.name(table)} "
            f"where {model_filter} and vector is not null and {where}",
            [model_id, *params],
        ).fetch_arrow_table()
    return found


@dataclass
class Summary:
    selected: int
    re_encoded: int
    encoded: int
    new: int
    deleted: int
    joint_written: int
    joint_deleted: int
    rejects: list[tuple[str, int]] = field(default_factory=list)

    @property
    def without_features(self) -> int:
        return self.re_encoded - self.encoded


def summarize(tables: Tables, selection: Selection, before: dict[str, pa.Table]) -> Summary:
    con = tables.con
    tables.name("portfolio_risk_reports")  # attaches the source, which the states view reads
    states, to_encode = (
        tables.name("int_portfolio_states"),
        tables.name("int_portfolio_states_to_encode"),
    )
    numeric, joint = tables.name("numeric_window_embeddings"), tables.name("joint_embeddings")
    rejects = tables.name("portfolio_feature_rejects")
    con.register("before_numeric", before["numeric_window_embeddings"])
    con.register("before_joint", before["joint_embeddings"])
    con.execute(
        "create or replace temporary table run_states as select portfolio_id, as_of_date, "
        f"source_fingerprint from {to_encode}"
    )
    keys = "s.portfolio_id = x.portfolio_id and s.as_of_date = x.as_of_date"
    con.execute(f"""
        create or replace temporary table run_rows as
        select s.*,
            exists (select 1 from {numeric} as n where n.entity_type = 'PORTFOLIO'
                    and n.model_id = $model and n.entity_id = s.portfolio_id
                    and n.as_of_date = s.as_of_date and n.vector is not null
                    and (n.window_spec ->> 'source_fingerprint') = s.source_fingerprint)
                as has_vector,
            exists (select 1 from {joint} as j where j.model_id = $joint_model
                    and (j.entity_scope ->> 'portfolio_id') = s.portfolio_id
                    and j.as_of_date = s.as_of_date and j.vector is not null
                    and (j.entity_scope ->> 'source_fingerprint') = s.source_fingerprint)
                as has_joint,
            exists (select 1 from before_numeric as x where {keys}) as had_vector,
            exists (select 1 from before_joint as x where {keys}) as had_joint
        from run_states as s
    """, {"model": selection.model_id, "joint_model": selection.joint_model_id})  # fmt: skip
    counts = con.execute(f"""
        select
            (select count(*) from {states}),
            count(*),
            count(*) filter (where has_vector),
            count(*) filter (where has_vector and not had_vector),
            count(*) filter (where had_vector and not has_vector),
            count(*) filter (where has_joint),
            count(*) filter (where had_joint and not has_joint)
        from run_rows
    """).fetchone()  # fmt: skip
    by_reason = con.execute(f"""
        select r.reason, count(*) from {rejects} as r
        semi join run_states as s on r.portfolio_id = s.portfolio_id
            and r.as_of_date = s.as_of_date and r.source_fingerprint = s.source_fingerprint
        group by r.reason order by count(*) desc, r.reason
    """).fetchall()  # fmt: skip
    summary = Summary(*counts, rejects=by_reason)
    if not selection.joint_follows:  # the run wrote no joint row and removed none
        summary.joint_written = summary.joint_deleted = 0
    return summary


def report_lines(summary: Summary, selection: Selection) -> list[str]:
    joint = selection.joint_model_id
    rejected = sum(n for _, n in summary.rejects)
    reasons = ", ".join(f"{reason} {n}" for reason, n in summary.rejects)
    lines = [
        f"  states selected:         {summary.selected}",
        f"  re-encoded:              {summary.re_encoded}",
        f"  left unchanged:          {summary.selected - summary.re_encoded}",
        f"  encoded:                 {summary.encoded} ({summary.new} new, "
        f"{summary.encoded - summary.new} replaced) under {selection.model_id}",
        f"  without usable features: {summary.without_features}",
        f"  rows deleted:            {summary.deleted} numeric, {summary.joint_deleted} joint",
    ]
    if selection.joint_follows:
        lines.append(f"  joint rows written:      {summary.joint_written} under {joint}")
    else:
        lines.append(f"  joint rows written:      0 ({joint} follows another model)")
    lines.append(f"  rejected:                {rejected}" + (f" ({reasons})" if reasons else ""))
    return lines
