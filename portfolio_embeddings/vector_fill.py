"""Rows that take their vector from another table of the same database: the insert the
shared_table writer runs on both engines (DuckDB and PostgreSQL spell it alike), so
that a copied vector never leaves the database (joint_embeddings, docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class VectorFill:
    """Each incoming row's `column` is that of the row of `table` (qualified and quoted)
    whose columns equal the row's expressions in `match` ({column of table: SQL
    expression on an incoming row}); a row without such a row is not inserted."""

    table: str
    match: dict[str, str]
    column: str = "vector"

    def insert_sql(self, target: str, incoming: str, columns: list[str]) -> str:
        """insert into `target` the rows of the table `incoming` (its `columns`) with
        the vectors of their matches."""
        names = ", ".join(map(quote, [*columns, self.column]))
        values = ", ".join(f"incoming.{quote(name)}" for name in columns)
        matches = " and ".join(
            f"source.{quote(name)} = (incoming.{expression})"
            for name, expression in self.match.items()
        )
        return (
            f"insert into {target} ({names}) "
            f"select {values}, source.{quote(self.column)} "
            f"from {incoming} as incoming join {self.table} as source on {matches} "
            f"where source.{quote(self.column)} is not null"
        )
