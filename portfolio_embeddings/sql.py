"""SQL text for the few statements that cannot take bound parameters (DuckDB's ATTACH,
literals DuckDB prunes row groups by, constants of a relation's projection)."""


def sql_literal(text) -> str:
    """A SQL string literal, quotes doubled."""
    return "'" + str(text).replace("'", "''") + "'"
