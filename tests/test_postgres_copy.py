"""portfolio_embeddings.postgres_copy against a real PostgreSQL 15 (started on
127.0.0.1): the binary COPY encoding round-trips every type the shared tables use, and
the keyed replace deletes exactly the keys it re-inserts."""

from __future__ import annotations

import datetime as dt
import time

import duckdb
import psycopg
import pyarrow as pa
import pytest
from pg_server import postgres_server

from portfolio_embeddings.postgres_copy import keyed_copy
from portfolio_embeddings.shared_table import attached_dsn, record_batches
from portfolio_embeddings.table_slice import MAX_NARROWING_VALUES
from portfolio_embeddings.vector_fill import VectorFill

TYPES_TABLE = """
create table public.every_type (
    id           bigserial primary key,
    label        varchar(64),
    note         text,
    spec         jsonb not null,
    day          date,
    seen_at      timestamptz,
    payload      bytea,
    small        integer,
    big          bigint,
    created_at   timestamptz not null default now()
)
"""

SHARED_TABLE = """
create table public.shared (
    embedding_id bigserial primary key,
    entity_type  varchar(32) not null,
    entity_id    varchar(64) not null,
    as_of_date   date not null,
    model_id     varchar(64) not null,
    window_spec  jsonb not null,
    vector       bytea,
    check (btrim(entity_id) <> '')
);
create index on public.shared (entity_type, entity_id, as_of_date, model_id);
insert into public.shared (entity_type, entity_id, as_of_date, model_id, window_spec, vector)
values
    ('PORTFOLIO', 'P1', '2025-01-31', 'm1', '{"old": true}', '\\x01'),
    ('PORTFOLIO', 'P2', '2025-01-31', 'm1', '{"old": true}', '\\x02'),
    ('PORTFOLIO', 'P1', '2025-01-30', 'm1', '{"other date": true}', '\\x03'),
    ('PORTFOLIO', 'P1', '2025-01-31', 'm2', '{"other model": true}', '\\x04'),
    ('INSTRUMENT', 'P1', '2025-01-31', 'm1', '{"other type": true}', '\\x05')
"""
KEYS = ["entity_type", "entity_id", "as_of_date", "model_id"]
SHARED_ROWS = (
    "select entity_type, entity_id, as_of_date::text, model_id, window_spec::text, vector "
    "from public.shared order by embedding_id"
)


@pytest.fixture(scope="module")
def server():
    with postgres_server() as pg:
        yield pg


@pytest.fixture
def dsn(server):
    with psycopg.connect(server.url(), autocommit=True) as con:
        con.execute("drop table if exists public.every_type, public.shared, public.joint")
        con.execute(TYPES_TABLE)
        con.execute(SHARED_TABLE)
    return server.url()


def shared_rows(values: str) -> duckdb.DuckDBPyRelation:
    """A relation of rows shaped like public.shared's own columns, from SQL VALUES."""
    return duckdb.sql(
        f"select * from (values {values}) "
        "as t(entity_type, entity_id, as_of_date, model_id, window_spec, vector)"
    )


def generated_rows(n: int, day: str, con=duckdb) -> duckdb.DuckDBPyRelation:
    """n PORTFOLIO rows of model m1 on `day` (entity_ids E0..E<n-1>), shaped like
    public.shared's own columns."""
    return con.sql(
        f"select 'PORTFOLIO' as entity_type, 'E' || i as entity_id, date '{day}' "
        f"as as_of_date, 'm1' as model_id, '{{}}'::json as window_spec from range({n}) r(i)"
    )


def rows_of(dsn: str, sql: str):
    with psycopg.connect(dsn) as con:
        return con.execute(sql).fetchall()


def test_binary_copy_round_trips_every_column_type(dsn):
    relation = duckdb.sql(
        """
        select * from (values
            ('plain', 'tab\tquote''s "x" é 😀', '{"a": [1, 2.5], "s": "q\\"uote"}'::json,
             date '1999-12-31', timestamptz '1970-01-01 00:00:01.000001+00',
             '\\x00\\xFF'::blob, -7, 9007199254740993::bigint),
            ('', null, '{}'::json, date '2000-01-01', timestamptz '2025-01-31 10:20:30+02',
             ''::blob, null, null),
            (null, '', '{"n": null}'::json, date '2100-06-15', null, null, 2147483647,
             '-9223372036854775808'::bigint)
        ) as t(label, note, spec, day, seen_at, payload, small, big)
        """
    )
    result = keyed_copy(relation.to_arrow_reader(), dsn, "public", "every_type", ["label"], "test")
    assert result.inserted == 3
    got = rows_of(
        dsn,
        "select label, note, spec, day, seen_at, payload, small, big "
        "from public.every_type order by id",
    )
    utc = dt.timezone.utc
    assert got == [
        (
            "plain",
            'tab\tquote\'s "x" é 😀',
            {"a": [1, 2.5], "s": 'q"uote'},
            dt.date(1999, 12, 31),
            dt.datetime(1970, 1, 1, 0, 0, 1, 1, tzinfo=utc),
            b"\x00\xff",
            -7,
            9007199254740993,
        ),
        ("", None, {}, dt.date(2000, 1, 1), dt.datetime(2025, 1, 31, 8, 20, 30, tzinfo=utc),
         b"", None, None),
        (None, "", {"n": None}, dt.date(2100, 6, 15), None, None, 2147483647,
         -9223372036854775808),
    ]  # fmt: skip
    # the columns the relation does not have are filled by the table's defaults
    assert rows_of(dsn, "select count(*) from public.every_type where created_at is null") == [(0,)]


def test_replaces_exactly_the_keys_it_writes(dsn):
    before = rows_of(dsn, SHARED_ROWS)
    relation = shared_rows(
        """
        ('PORTFOLIO', 'P1', date '2025-01-31', 'm1', '{"new": 1}'::json, '\\xAA'::blob),
        ('PORTFOLIO', 'P3', date '2025-01-31', 'm1', '{"new": 3}'::json, '\\xCC'::blob)
        """
    )
    result = keyed_copy(relation.to_arrow_reader(), dsn, "public", "shared", KEYS, "test")
    assert (result.inserted, result.deleted) == (2, 1)
    # every key column had few values, so each narrows the delete
    assert result.narrowing == {
        "entity_type": ["PORTFOLIO"],
        "entity_id": ["P1", "P3"],
        "as_of_date": [dt.date(2025, 1, 31)],
        "model_id": ["m1"],
    }
    after = rows_of(dsn, SHARED_ROWS)
    assert after == [before[1], *before[2:], *[
        ("PORTFOLIO", "P1", "2025-01-31", "m1", '{"new": 1}', b"\xaa"),
        ("PORTFOLIO", "P3", "2025-01-31", "m1", '{"new": 3}', b"\xcc"),
    ]]  # fmt: skip
    # the same rows again: replaced, not duplicated
    again = keyed_copy(relation.to_arrow_reader(), dsn, "public", "shared", KEYS, "test")
    assert (again.inserted, again.deleted) == (2, 2)
    assert sorted(rows_of(dsn, SHARED_ROWS)) == sorted(after)


def test_a_key_with_many_values_does_not_narrow_and_expression_keys_work(dsn):
    many = MAX_NARROWING_VALUES + 1
    relation = duckdb.sql(
        f"""
        select 'PORTFOLIO' as entity_type, 'P' || i as entity_id,
               date '2025-01-31' as as_of_date, 'm1' as model_id,
               json_object('portfolio_id', 'P' || i) as window_spec, '\\x01'::blob as vector
        from range(1, {many + 1}) as r(i)
        """
    )
    keys = ["entity_type", "window_spec->>'portfolio_id'", "as_of_date", "model_id"]
    result = keyed_copy(relation.to_arrow_reader(), dsn, "public", "shared", keys, "test")
    assert "entity_id" not in result.narrowing and "entity_type" in result.narrowing
    assert result.deleted == 0  # the old rows' window_spec has no portfolio_id
    again = keyed_copy(relation.to_arrow_reader(), dsn, "public", "shared", keys, "test")
    assert (again.inserted, again.deleted) == (many, many)


def test_the_delete_is_skipped_only_for_a_slice_that_was_empty_before_the_run(dsn):
    new_date = shared_rows(
        "('PORTFOLIO', 'P1', date '2025-03-31', 'm1', '{}'::json, '\\x01'::blob)"
    )
    first = keyed_copy(new_date.to_arrow_reader(), dsn, "public", "shared", KEYS, "test")
    assert (first.inserted, first.deleted, first.delete_skipped) == (1, 0, True)
    again = keyed_copy(new_date.to_arrow_reader(), dsn, "public", "shared", KEYS, "test")
    assert (again.inserted, again.deleted, again.delete_skipped) == (1, 1, False)

    # the first batch's slice is new, a later batch's (2025-01-31, P1) is not: replaced
    batches = [
        shared_rows(values).to_arrow_table().to_batches()[0]
        for values in (
            "('PORTFOLIO', 'P1', date '2025-04-30', 'm1', '{}'::json, '\\x01'::blob)",
            "('PORTFOLIO', 'P1', date '2025-01-31', 'm1', '{}'::json, '\\x01'::blob)",
        )
    ]
    reader = pa.RecordBatchReader.from_batches(batches[0].schema, batches)
    mixed = keyed_copy(reader, dsn, "public", "shared", KEYS, "test")
    assert (mixed.inserted, mixed.deleted, mixed.delete_skipped) == (2, 1, False)
    duplicated_keys = (
        "select count(*) from (select 1 from public.shared "
        "group by entity_type, entity_id, as_of_date, model_id having count(*) > 1) as d"
    )
    assert rows_of(dsn, duplicated_keys) == [(0,)]


def test_a_rerun_deletes_in_a_few_scans_even_before_analyze_has_seen_the_rows(dsn):
    """Statistics from before a run's rows made the planner loop over the slice once per
    row (quadratic: a 1M re-run took over ten minutes). Counted in scans, not time."""
    states = generated_rows(3000, "2025-05-30")
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("analyze public.shared")  # statistics without this run's rows
    keyed_copy(states.to_arrow_reader(), dsn, "public", "shared", KEYS, "test")
    stats = (
        "select coalesce(idx_scan, 0) + seq_scan, n_tup_del from pg_stat_user_tables "
        "where relid = 'public.shared'::regclass"
    )
    scans_before, deleted_before = rows_of(dsn, stats)[0]
    rerun = keyed_copy(states.to_arrow_reader(), dsn, "public", "shared", KEYS, "test")
    assert rerun.deleted == 3000
    # the writer's statistics reach the server when its backend exits, a moment later
    for _ in range(100):
        scans_after, deleted_after = rows_of(dsn, stats)[0]
        if deleted_after - deleted_before == 3000:
            break
        time.sleep(0.1)
    assert deleted_after - deleted_before == 3000
    assert scans_after - scans_before <= 10


def test_a_failing_row_leaves_the_table_as_it_was(dsn):
    before = rows_of(dsn, SHARED_ROWS)
    relation = shared_rows(
        """
        ('PORTFOLIO', 'P1', date '2025-01-31', 'm1', '{}'::json, '\\x01'::blob),
        ('PORTFOLIO', ' ', date '2025-01-31', 'm1', '{}'::json, '\\x01'::blob)
        """
    )
    with pytest.raises(psycopg.errors.CheckViolation):
        keyed_copy(relation.to_arrow_reader(), dsn, "public", "shared", KEYS, "test")
    assert rows_of(dsn, SHARED_ROWS) == before


def test_a_column_the_table_lacks_is_named(dsn):
    relation = duckdb.sql("select 'PORTFOLIO' as entity_type, 1 as surprise")
    with pytest.raises(ValueError, match="surprise"):
        keyed_copy(relation.to_arrow_reader(), dsn, "public", "shared", KEYS, "test")


def test_model_output_reaches_the_table_whatever_ran_on_the_connection_since(dsn):
    """The shared_table writer registers a Python model's output, then queries the connection
    (the attached DSN) before the rows are read: a DuckDB relation's rows must survive
    that, and a model's own Arrow reader is streamed as it is."""
    con = duckdb.connect()
    relation = generated_rows(40_000, "2025-02-28", con)
    con.register("model_output", relation)
    rows = record_batches(con, relation, "model_output")
    con.execute("select 1").fetchall()  # ends any result streamed before it
    assert keyed_copy(rows, dsn, "public", "shared", KEYS, "test").inserted == 40_000

    table = relation.to_arrow_table()
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(7_000))
    assert record_batches(con, reader, "unused") is reader
    again = keyed_copy(reader, dsn, "public", "shared", KEYS, "test")
    assert (again.inserted, again.deleted) == (40_000, 40_000)
    assert rows_of(
        dsn,
        "select count(*) from public.shared where model_id = 'm1' and as_of_date = '2025-02-28'",
    ) == [(40_000,)]


def test_attached_dsn_names_a_database_that_is_not_attached():
    with pytest.raises(ValueError, match="'historical' is not an attached PostgreSQL"):
        attached_dsn(duckdb.connect(), "historical")


JOINT_TABLE = """
create table public.joint (
    joint_id     bigserial primary key,
    joint_type   varchar(32) not null,
    as_of_date   date not null,
    entity_scope jsonb not null,
    model_id     varchar(64) not null check (btrim(model_id) <> ''),
    vector       bytea
);
insert into public.joint (joint_type, as_of_date, entity_scope, model_id, vector) values
    ('J', '2025-01-31', '{"portfolio_id": "P1"}', 'j1', '\\x09'),
    ('J', '2025-01-31', '{"portfolio_id": "P5"}', 'j1', '\\x05'),
    ('J', '2025-01-31', '{"portfolio_id": "P9"}', 'j1', '\\x99')
"""
JOINT_KEYS = ["joint_type", "as_of_date", "model_id", "entity_scope->>'portfolio_id'"]
JOINT_ROWS = "select entity_scope->>'portfolio_id', vector from public.joint order by 1, joint_id"
FROM_SHARED = VectorFill(
    '"public"."shared"',
    {
        "entity_type": "entity_scope->>'entity_type'",
        "entity_id": "entity_scope->>'portfolio_id'",
        "as_of_date": "as_of_date",
        "model_id": "entity_scope->>'source_model_id'",
    },
)


def joint_rows(*portfolios: str, model_ids: dict | None = None) -> pa.RecordBatchReader:
    """Rows of public.joint (model j1 unless `model_ids` says otherwise) without a
    vector, each naming its source row in shared."""
    values = ", ".join(f"('{p}', '{(model_ids or {}).get(p, 'j1')}')" for p in portfolios)
    return duckdb.sql(
        f"select 'J' as joint_type, date '2025-01-31' as as_of_date, json_object("
        f"'entity_type', 'PORTFOLIO', 'portfolio_id', p, 'source_model_id', 'm1') "
        f"as entity_scope, model_id from (values {values}) as t(p, model_id)"
    ).to_arrow_reader()


def test_rows_take_their_vectors_from_another_table_in_the_server(dsn):
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(JOINT_TABLE)
    result = keyed_copy(
        joint_rows("P1", "P2", "P5"), dsn, "public", "joint", JOINT_KEYS, "test",
        vector_fill=FROM_SHARED,
    )  # fmt: skip
    # P1 and P2 have a source row (vectors 01, 02); P5 has none: its old row only goes
    assert (result.inserted, result.deleted) == (2, 2)
    assert rows_of(dsn, JOINT_ROWS) == [("P1", b"\x01"), ("P2", b"\x02"), ("P9", b"\x99")]


def test_a_failing_filled_row_leaves_the_table_as_it_was(dsn):
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(JOINT_TABLE)
    before = rows_of(dsn, JOINT_ROWS)
    with pytest.raises(psycopg.errors.CheckViolation):
        keyed_copy(
            # P5's old row is deleted, then P1's new row breaks the CHECK
            joint_rows("P1", "P5", model_ids={"P1": " "}), dsn, "public", "joint", JOINT_KEYS,
            "test",
            vector_fill=FROM_SHARED,
        )  # fmt: skip
    assert rows_of(dsn, JOINT_ROWS) == before
