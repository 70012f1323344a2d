"""passwords_in: what the dbt plugin and the CLI scrub from messages."""

from portfolio_embeddings.credentials import passwords_in


def test_url_password_plain_and_percent_encoded():
    assert passwords_in("postgresql://u:s3cret@h:5432/db") == ["s3cret"]
    assert passwords_in("postgresql://u:p%40ss@h/db") == ["p%40ss", "p@ss"]


def test_key_value_dsn_password_quoted_or_not():
    assert passwords_in("host=h user=u password=abc dbname=d") == ["abc"]
    assert passwords_in("host=h password='a b' dbname=d") == ["a b"]


def test_no_password_no_secret():
    assert passwords_in("postgresql://u@h/db") == []
    assert passwords_in("host=h dbname=d") == []
