"""The platform's DDL has one source per engine (macros/materializations/
shared_table_ddl.sql): its PostgreSQL text is the platform's own, statement for
statement, as kept in tests/fixtures/platform_ddl.sql (and ../shared when present)."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import PROJECT_DIR, make_project

FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "platform_ddl.sql"
SHARED = PROJECT_DIR.parent / "shared" / "platform_ddl.sql"
TABLES = ("numeric_window_embeddings", "joint_embeddings")


def statements(sql: str) -> list[str]:
    """The SQL's statements, comments dropped and whitespace collapsed."""
    text = re.sub(r"--[^\n]*", "", sql)
    return [" ".join(s.split()) for s in text.split(";") if s.strip()]


def of_table(all_statements: list[str], table: str) -> list[str]:
    return [s for s in all_statements if re.search(rf"\b{table}\b", s)]


def rendered_ddl(tmp_path: Path, table: str) -> str:
    project = make_project(tmp_path)
    relation = f"api.Relation.create(schema='public', identifier='{table}')"
    done = project.dbt(
        "compile", "--quiet", "--output", "text", "--inline",
        f"{{{{ postgres_shared_table_ddl({relation}) }}}}",
    )  # fmt: skip
    assert done.ok, done.output
    return done.output


def test_the_postgres_ddl_is_the_platforms(tmp_path):
    fixture = statements(FIXTURE.read_text())
    for table in TABLES:
        ours = statements(rendered_ddl(tmp_path / table, table).replace("public.", ""))
        assert ours == of_table(fixture, table), table


def test_the_fixture_is_the_platforms_copy():
    """The copy in the repository is the platform's file, where a checkout has it
    beside (CI does): a new platform migration shows up here."""
    if SHARED.exists():
        assert statements(SHARED.read_text()) == statements(FIXTURE.read_text())
    assert of_table(statements(FIXTURE.read_text()), "numeric_window_embeddings")


def test_an_unknown_shared_table_has_no_ddl(tmp_path):
    project = make_project(tmp_path)
    relation = "api.Relation.create(schema='public', identifier='surprise')"
    done = project.dbt("compile", "--inline", f"{{{{ duckdb_shared_table_ddl({relation}) }}}}")
    assert not done.ok
    assert "no platform DDL for a shared table named surprise" in done.output
