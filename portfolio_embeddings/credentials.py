"""Find the passwords in database connection strings (no dbt import: the CLI uses it)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_DSN_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def passwords_in(connection_string: str) -> list[str]:
    """Passwords in a libpq URL (postgresql://user:pw@host/db) or key=value DSN."""
    found = []
    if "://" in connection_string:
        password = urlsplit(connection_string).password
        if password:
            found += [password, unquote(password)]
    for match in _DSN_PASSWORD.finditer(connection_string):
        found.append(match.group(1).strip("'"))
    return [p for p in dict.fromkeys(found) if p]
