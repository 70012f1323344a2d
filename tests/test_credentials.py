"""passwords_in: what the dbt plugin and the CLI scrub from messages."""

from portfolio_embeddings.credentials import passwords_in, without_password


def test_url_password_plain_and_percent_encoded():
    assert passwords_in("postgresql://u:s3cret@h:5432/db") == ["s3cret"]
    assert passwords_in("postgresql://u:p%40ss@h/db") == ["p%40ss", "p@ss"]


def test_key_value_dsn_password_quoted_or_not():
    assert passwords_in("host=h user=u password=abc dbname=d") == ["abc"]
    assert passwords_in("host=h password='a b' dbname=d") == ["a b"]


def test_no_password_no_secret():
    assert passwords_in("postgresql://u@h/db") == []
    assert passwords_in("host=h dbname=d") == []


def test_what_libpq_reads_beyond_the_simple_forms():
    assert passwords_in("postgresql://u@h/db?password=p%20w&sslmode=require") == ["p%20w", "p w"]
    assert passwords_in(r"host=h password='it\'s a \\ pw' dbname=d") == [
        r"it\'s a \\ pw",
        "it's a \\ pw",
    ]
    assert passwords_in("host = h  password = 'spaced out'  dbname=d") == ["spaced out"]
    assert passwords_in("postgresql://u:pw@[::1]:5433,h2:5434/db") == ["pw"]


def test_file_paths_and_unreadable_strings():
    assert passwords_in("/data/password-rotation/risk.duckdb") == []
    assert passwords_in("host=h password='never closed") == ["host=h password='never closed"]


def test_a_location_without_its_password():
    assert without_password("postgresql://u:s3cret@h:5432/db") == "postgresql://u@h:5432/db"
    assert without_password("host=h password=abc dbname=d") == "postgresql://h/d"
    assert without_password("/data/risk.duckdb") == "/data/risk.duckdb"
