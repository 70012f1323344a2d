r"""Passwords in database connection strings, and where a connection string points
without its password (no dbt import: the CLI uses it).

>>> passwords_in("postgresql://u:p%40ss@h/db?sslmode=require")
['p%40ss', 'p@ss']
>>> passwords_in(r"host=h password='it\'s' dbname=d")
["it\\'s", "it's"]
>>> without_password("host=db.example port=5433 user=u password='a b' dbname=hist")
'postgresql://u@db.example:5433/hist'
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def _looks_like_conninfo(text: str) -> bool:
    return "://" in text or "=" in text  # else a file path, e.g. a DuckDB attachment's


def _conninfo(connection_string: str) -> dict[str, str] | None:
    """libpq's reading of a URL or key=value DSN; None when it is neither."""
    if not _looks_like_conninfo(connection_string):
        return None
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {key: str(value) for key, value in conninfo_to_dict(connection_string).items()}
    except ProgrammingError:
        return None


def passwords_in(connection_string: str) -> list[str]:
    """Passwords in a libpq URL (postgresql://user:pw@host/db) or key=value DSN, both
    as written and as libpq decodes them: an error message may quote either."""
    if not _looks_like_conninfo(connection_string):
        return []
    params = _conninfo(connection_string)
    if params is None and "password" in connection_string:
        # Unreadable, yet it names a password: scrub the whole string.
        return [connection_string]
    found = []
    if "://" in connection_string:
        parts = urlsplit(connection_string)
        found.append(parts.password or "")
        for pair in parts.query.split("&"):
            key, _, value = pair.partition("=")
            if unquote(key) == "password":
                found.append(value)
    password = (params or {}).get("password", "")
    # The quoted-DSN spelling too, backslashes and quotes escaped.
    found += [password.replace("\\", "\\\\").replace("'", "\\'"), password]
    return [p for p in dict.fromkeys(found) if p]


def without_password(connection_string: str) -> str:
    """Where a URL or DSN points, as postgresql://user@host:port/dbname; anything else
    (a file path) as it is."""
    params = _conninfo(connection_string)
    if params is None:
        unreadable = "(an unreadable connection string)"
        return unreadable if passwords_in(connection_string) else connection_string
    user = f"{params['user']}@" if params.get("user") else ""
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{user}{params.get('host', '')}{port}/{params.get('dbname', '')}"
