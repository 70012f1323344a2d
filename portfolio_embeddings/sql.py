"""Small SQL helpers shared by the dbt Python models (dbt models cannot import each
other; this package is installed with the project)."""


def sql_literal(text) -> str:
    """A SQL string literal, quotes doubled."""
    return "'" + str(text).replace("'", "''") + "'"
