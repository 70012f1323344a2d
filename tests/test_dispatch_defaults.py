"""Each dispatched JSON macro's default__ implementation gives what the duckdb__ one
gives, member by member, on the JSON spellings the pipeline meets (real dbt, DuckDB)."""

from __future__ import annotations

import json

from conftest import make_project

DOCUMENTS = [
    '{"a": 1, "b": -2.5e-3, "c": 1E2, "d": true, "e": false, "f": null, "g": "1.5",'
    ' "h": {"x": 1}, "i": [1, 2], "j": 1e400, "k": 0}',
    "[0.1, 0.2]",
    '"just text"',
    "{}",
]


def rendered(project, implementation: str) -> list:
    members = f"{implementation}json_object_entries('doc')"
    sql = f"""
        with docs as (select unnest($docs) as doc),
        members as (
            select doc, unnest(coalesce({{{{ {members} }}}}, [{{'key': null, 'value': null}}]))
                as member
            from docs
        )
        select doc, member.key as k,
            {{{{ {implementation}json_member_type('member.value') }}}} as t,
            {{{{ {implementation}json_member_to_double('member.value') }}}} as v,
            {{{{ {implementation}json_type_of('doc') }}}} as doc_type
        from members order by all
    """.replace("$docs", "[" + ", ".join("'" + d.replace("'", "''") + "'" for d in DOCUMENTS) + "]")
    done = project.dbt("show", "--inline", sql, "--limit", "100", "--output", "json", "--quiet")
    assert done.ok, done.output
    return json.loads(done.output)["show"]


def test_default_implementations_agree_with_duckdb(tmp_path):
    project = make_project(tmp_path)
    duckdb_rows = rendered(project, "duckdb__")
    assert len(duckdb_rows) == 11 + 2  # the members; one row per non-object; {} has none
    assert rendered(project, "default__") == duckdb_rows
