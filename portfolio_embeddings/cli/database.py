"""Read-only access to the project's tables where dbt puts them for a target: the
profile's DuckDB file and the databases it attaches, found by portfolio_embeddings.project."""

from __future__ import annotations

from pathlib import Path

import duckdb

from portfolio_embeddings.cli.options import UsageError
from portfolio_embeddings.credentials import passwords_in, without_password
from portfolio_embeddings.project import SOURCE_TABLES, locate
from portfolio_embeddings.sql import sql_literal


class Tables:
    """`tables.name("numeric_window_embeddings")` is the qualified name to query on
    `tables.con`; the database that holds it is attached (read-only) on first use."""

    def __init__(self, target: str, project_dir: Path):
        self.locations = locate(target, project_dir)
        self.con = duckdb.connect(config=self.locations.config)
        self._attached: dict[str, str] = {}
        self._checked: set[str] = set()

    def close(self) -> None:
        """Let go of every database (a dbt run may then open them for writing)."""
        self.con.close()

    def name(self, table: str) -> str:
        """The table's qualified name; a UsageError when the table is not there yet."""
        relation = self.locations.relations[table]
        if self.exists(table):
            return relation.relation_name
        if table in SOURCE_TABLES:
            raise UsageError(
                f"no source table {relation.relation_name} for target "
                f"{self.locations.target!r}: load the reports there (make run creates demo "
                "reports), or point PORTFOLIO_DUCKDB_PATH at a file that has them"
            )
        raise UsageError(
            f"no table {relation.relation_name} for target {self.locations.target!r} "
            "yet: run the pipeline first (portfolio-embeddings backfill, or make run)"
        )

    def exists(self, table: str) -> bool:
        """Whether the table (or view) is there; its database is attached on first use."""
        if table not in self._checked:
            relation = self.locations.relations[table]
            self._attach(relation.database)
            try:  # a lookup of this one name: information_schema would list every table
                self.con.execute(f"select 1 from {relation.relation_name} limit 0")
            except duckdb.CatalogException:
                return False
            self._checked.add(table)
        return True

    def location(self, table: str) -> str:
        """Where the table's database lives: a file path, or a URL without password."""
        relation = self.locations.relations[table]
        return self._attach(relation.database)

    def _attach(self, database: str) -> str:
        if database in self._attached:
            return self._attached[database]
        where = self.locations
        if database == where.database:
            path, kind, label = where.path, None, "DuckDB file"
            if not Path(path).exists():
                raise UsageError(
                    f"no DuckDB file at {path}: run `make run` or set PORTFOLIO_DUCKDB_PATH"
                )
        elif database in where.attachments:
            attachment = where.attachments[database]
            path, kind, label = attachment.path, attachment.type, f"{database} database"
        else:
            raise UsageError(
                f"target {where.target!r} neither opens nor attaches the database "
                f"{database!r} that dbt's configuration names"
            )
        is_file = kind in (None, "duckdb")
        options = "read_only" if is_file else f"type {kind}, read_only"
        quoted = '"' + database.replace('"', '""') + '"'
        try:
            self.con.execute(f"attach {sql_literal(path)} as {quoted} ({options})")
        except duckdb.Error as err:
            reason = str(err)
            for password in passwords_in(path):
                reason = reason.replace(password, "*****")
            raise UsageError(f"cannot connect to the {label}: {reason}") from None
        location = str(Path(path).resolve()) if is_file else without_password(path)
        self._attached[database] = location
        return location
