"""Read-only access to the project's tables where dbt puts them for a target: the
profile's DuckDB file and the databases it attaches, found by portfolio_embeddings.project."""

from __future__ import annotations

from pathlib import Path

import duckdb

from portfolio_embeddings.cli.options import UsageError
from portfolio_embeddings.credentials import passwords_in, without_password
from portfolio_embeddings.project import locate
from portfolio_embeddings.sql import sql_literal


class Tables:
    """`tables.name("numeric_window_embeddings")` is the qualified name to query on
    `tables.con`; the database that holds it is attached (read-only) on first use."""

    def __init__(self, target: str):
        self.locations = locate(target)
        self.con = duckdb.connect(config=self.locations.config)
        self._attached: dict[str, str] = {}

    def name(self, table: str) -> str:
        relation = self.locations.relations[table]
        self._attach(relation.database)
        return relation.relation_name

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
