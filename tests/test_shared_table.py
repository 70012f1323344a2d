"""portfolio_embeddings.shared_table on a real DuckDB file: rows that take their vector
from another table (vector_from) and the compression setting around the write."""

from __future__ import annotations

import duckdb
import pytest

from portfolio_embeddings.shared_table import replace_keys

KEYS = ["joint_type", "as_of_date", "model_id", "entity_scope->>'portfolio_id'"]
VECTOR_FROM = {
    "table": "numeric",
    "match": {
        "entity_id": "entity_scope->>'portfolio_id'",
        "as_of_date": "as_of_date",
        "model_id": "entity_scope->>'source_model_id'",
    },
}
JOINT_ROWS = "select entity_scope->>'portfolio_id', vector from joint order by 1"


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "shared.duckdb"))
    con.execute(
        """
        create table numeric (entity_id varchar, as_of_date date, model_id varchar,
                              vector blob);
        insert into numeric values
            ('P1', '2025-01-31', 'm1', '\\x01'), ('P2', '2025-01-31', 'm1', '\\x02'),
            ('P2', '2025-01-31', 'm2', '\\x22');
        create table joint (joint_type varchar, as_of_date date, entity_scope json,
                            model_id varchar, vector blob);
        insert into joint values
            ('J', '2025-01-31', '{"portfolio_id": "P1"}', 'j1', '\\x09'),
            ('J', '2025-01-31', '{"portfolio_id": "P5"}', 'j1', '\\x05'),
            ('J', '2025-01-31', '{"portfolio_id": "P9"}', 'j1', '\\x99');
        """
    )
    yield con
    con.close()


def joint_rows(con, *portfolios: str):
    values = ", ".join(f"('{p}')" for p in portfolios)
    return con.sql(
        "select 'J' as joint_type, date '2025-01-31' as as_of_date, json_object("
        "'portfolio_id', p, 'source_model_id', 'm1') as entity_scope, 'j1' as model_id "
        f"from (values {values}) as t(p)"
    )


def write(con, rows, **options) -> int:
    catalog = con.execute("select current_database()").fetchone()[0]
    return replace_keys(
        con, rows, engine="duckdb", database=catalog, schema="main", table="joint",
        keys=KEYS, **options,
    )  # fmt: skip


def test_rows_take_their_vectors_from_the_matching_rows_of_another_table(con):
    # P1, P2 match a numeric row of m1; P5 has none: its stored row only goes
    assert write(con, joint_rows(con, "P1", "P2", "P5"), vector_from=VECTOR_FROM) == 2
    assert con.sql(JOINT_ROWS).fetchall() == [
        ("P1", b"\x01"), ("P2", b"\x02"), ("P9", b"\x99"),
    ]  # fmt: skip


def test_the_users_compression_setting_is_back_after_the_write_and_after_a_failure(con):
    con.execute("set disabled_compression_methods = 'bitpacking'")
    write(con, joint_rows(con, "P1"), vector_from=VECTOR_FROM)
    assert con.sql("select current_setting('disabled_compression_methods')").fetchone() == (
        "BitPacking",
    )
    broken = con.sql("select 1 as joint_type, 'x' as no_such_column")
    with pytest.raises(duckdb.Error):
        write(con, broken)
    assert con.sql("select current_setting('disabled_compression_methods')").fetchone() == (
        "BitPacking",
    )
    assert con.sql(JOINT_ROWS).fetchall() == [
        ("P1", b"\x01"), ("P5", b"\x05"), ("P9", b"\x99"),
    ]  # fmt: skip
