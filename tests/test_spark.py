"""The Spark target against the DuckDB target on the same reports: real local Spark
(dbt-spark `method: session`, Parquet tables, a Derby metastore in a temporary folder),
real dbt. Two dbt invocations in all (a DuckDB run, a Spark build), so that the Spark
part stays within minutes on two cores. The Spark build is the venv's plain `dbt` on
the `spark` target (type sparklocal, adapters/dbt-sparklocal), whose local_session
submission runs the Python models' compiled code in dbt's SparkSession.

Needs the Spark requirements (requirements-spark.txt, the sparklocal adapter) and
Java 17+: `make test` installs them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import DBT, PROFILES_DIR, PROJECT_DIR, SMALL_DEMO, make_project

from portfolio_embeddings.spark_table import PLATFORM_COLUMNS

SPARK_SCHEMA = "portfolio_embeddings"
# A report whose members take the JSON spellings the two engines parse differently
# (exponents, long decimals, huge integers, overflowing numbers, quoted numbers,
# escapes), and two documents that are not objects.
SPELLINGS_PORTFOLIO = "P99999"
SPELLINGS = {
    "risk_metrics": '{"a": 1, "b": -2.5e-3, "c": 1E2, "d": true, "e": false, "f": null,'
    ' "g": "1.5", "h": {"x": 1, "y": [1, 2.50]}, "i": [1, 2], "j": 1e400, "k": 0,'
    ' "l": 1e308, "m": "caf\\u00e9", "n": 0.30000000000000004, "q": 1.5E+2, "r": "a\\"b",'
    ' "o": 123456789012345678901234567890123456789012, "s": -1E+400, "t": 7.0e-320}',
    "exposures_by_sector": '"just text"',
    "exposures_by_factor": "[0.1, 0.2]",
}
# Keys given twice: the last occurrence counts, each earlier one is a duplicate_key
# reject at its entry_position. Values of every kind, a key spelled with an escape,
# commas, brackets and quotes inside strings, overflowing numbers, a newline.
REPEATED_PORTFOLIO = "P99992"
REPEATED = {
    "risk_metrics": '{"beta": 1, "vol": 0.2, "beta": "2", "\\u0062eta": 3, "beta": 1.5E+1}',
    "exposures_by_sector": '{"Tech": {"a,}": "x]", "b": [1, {"c": 2}]}, "Energy": 0.5,\n'
    ' "Tech": 0.25, "Util": null, "Util": 1e400, "Cash": "a\\"b,{\\\\", "Cash": 0.1}',
    "exposures_by_factor": '{"mom": 1e400, "mom": 0.3, "size": [1, 2], "size": -0.1}',
}
# Bare NaN / Infinity, not JSON but numbers to DuckDB (NaN, Infinity, inf, a minus, any
# case): each such member a non_finite_number reject keeping its spelling, the others
# used; nested in an object or an array, an object_value / array_value; in a string,
# text; a key repeated; spaces and newlines around; a document that is no object.
NON_FINITE_PORTFOLIO = "P99991"
NON_FINITE = {
    "risk_metrics": '{"a": NaN, "b": 0.5, "c": -Infinity, "d": Infinity, "e": nan,'
    ' "f": inf, "g": -INF, "h": "NaN", "i": [1, NaN], "j": {"x": -inf}, "k": nan,'
    ' "l": 1e400, "m": "x, \\"NaN\\" {", "n": -nAn, "k": 2, "o": infinity, "p": 0.25}',
    "exposures_by_sector": '{\n "Tech" :\t-Infinity ,\n "Energy": 0.25, "Util": NaN\n}',
    "exposures_by_factor": "[NaN, 1]",
}
# Issue-12 bad input both engines reject alike: report_id -> (portfolio_id,
# as_of_date, created_at, exposures_by_sector); None keeps the copied row's value.
# Malformed text stays one malformed_json reject with bare NaN in it too.
BAD_REPORTS = {
    "R-BLANK-ID": (" \t ", None, None, None),
    "R-NO-DATE": ("P99998", "null", None, None),
    "R-NO-CREATED": ("P99997", None, "null", None),
    "R-MALFORMED": ("P99996", None, None, "'{\"tech\": 0.5,'"),
    "R-MALFORMED-NAN": ("P99990", None, None, '\'{"tech": NaN, "x": infinityy}\''),
    "R-NAN-OPEN-STRING": ("P99989", None, None, '\'{"tech": "a, NaN}\''),
    "R-NAN-CUT": ("P99988", None, None, '\'{"tech": NaN, "x": 1,\''),
    "R-NAN-DOCUMENT": ("P99987", None, None, "'-Infinity'"),
}
DUPLICATE_REPORT_ID = "R-TWICE"
# Rows of other writers and a stale row of this project, in the Spark tables before
# the run: the run must replace the stale one and leave the others as they are.
FOREIGN_ROW = ("INSTRUMENT", "AAPL", "2025-01-31", "num-instrument-v1", b"\x01" * 8)
FOREIGN_REJECT_STATE = ("P77777", "2024-01-31")


@dataclass
class Engines:
    duckdb_path: Path
    warehouse: Path
    build_output: str

    def duck(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def spark_table(self, table: str) -> str:
        """A Spark Parquet table as DuckDB reads it (no second JVM while dbt is done)."""
        return f"read_parquet('{self.warehouse / (SPARK_SCHEMA + '.db') / table}/*.parquet')"


def _spark_env(spark_dir: Path, work_dir: Path) -> dict:
    # as a user runs the venv's dbt: the venv not on PATH, no PYSPARK_PYTHON (the
    # adapter gives Spark's Python workers dbt's interpreter)
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "VIRTUAL_ENV")}
    venv_bin = str(DBT.parent)
    return {
        **env,
        "PATH": os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin),
        "PORTFOLIO_SPARK_DIR": str(spark_dir),
        "PORTFOLIO_SPARK_CORES": "2",
        "PORTFOLIO_SPARK_SHUFFLE_PARTITIONS": "4",
        "DBT_PROFILES_DIR": str(PROFILES_DIR),
        "DBT_TARGET_PATH": str(work_dir / "target-spark"),
        "DBT_LOG_PATH": str(work_dir / "logs-spark"),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def _add_report(db_path: Path, report_id: str, portfolio_id: str, documents: dict) -> None:
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "insert into main.portfolio_risk_reports select * replace ("
            "? as report_id, ? as portfolio_id, ? as risk_metrics,"
            " ? as exposures_by_sector, ? as exposures_by_factor)"
            " from main.portfolio_risk_reports order by report_id limit 1",
            [report_id, portfolio_id, *documents.values()],
        )


def _add_bad_input_reports(db_path: Path) -> None:
    with duckdb.connect(str(db_path)) as con:
        # the demo table's constraints (primary key, not null) would refuse these rows,
        # and malformed JSON needs a text column: the same rows in a plain table
        con.execute(
            "create table main.reports_copy as select * replace ("
            "cast(exposures_by_sector as varchar) as exposures_by_sector)"
            " from main.portfolio_risk_reports"
        )
        con.execute("drop table main.portfolio_risk_reports")
        con.execute("alter table main.reports_copy rename to portfolio_risk_reports")
        for report_id, (portfolio_id, as_of_date, created_at, sector) in BAD_REPORTS.items():
            replaced = [f"'{report_id}' as report_id", f"'{portfolio_id}' as portfolio_id"]
            if as_of_date is not None:
                replaced.append(f"cast({as_of_date} as date) as as_of_date")
            if created_at is not None:
                replaced.append(f"cast({created_at} as timestamp) as created_at")
            if sector is not None:
                replaced.append(f"{sector} as exposures_by_sector")
            con.execute(
                f"insert into main.portfolio_risk_reports select * replace ({', '.join(replaced)})"
                " from main.portfolio_risk_reports order by report_id limit 1"
            )
        for portfolio_id in ("P99995", "P99994"):
            con.execute(
                "insert into main.portfolio_risk_reports select * replace ("
                f"'{DUPLICATE_REPORT_ID}' as report_id, '{portfolio_id}' as portfolio_id)"
                " from main.portfolio_risk_reports order by report_id limit 1"
            )


SEED_SPARK = """
import sys
from portfolio_embeddings.spark_source import load_reports, spark_session
from portfolio_embeddings.spark_table import create_if_absent

spark = spark_session()
spark.sparkContext.setLogLevel("ERROR")
load_reports(spark, sys.argv[1])
spark.sql("create database if not exists {schema}")
table = "numeric_window_embeddings"
create_if_absent(spark, "{schema}." + table, table, "parquet")
spark.sql(
    "insert into {schema}.numeric_window_embeddings values "
    "(41, '{ft}', '{fid}', '{{}}', date '{fdate}', '{fmodel}', X'{fvec}', null,"
    " current_timestamp()),"
    "(42, 'PORTFOLIO', 'P00001', '{{}}', date '2025-01-31', 'num-portfolio-core-v1', X'00',"
    " null, current_timestamp())"
)
spark.sql(
    "create table {schema}.portfolio_feature_rejects (portfolio_id string, as_of_date date,"
    " report_id string, feature_group string, feature_key string, raw_value string,"
    " reason string, source_fingerprint string, found_at timestamp) using parquet"
)
spark.sql(
    "insert into {schema}.portfolio_feature_rejects values ('{rp}', date '{rd}', 'R-OLD', "
    "'risk_metrics', 'x', '\\"n/a\\"', 'string_value', 'f', current_timestamp())"
)
spark.stop()
"""


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> Engines:
    work = tmp_path_factory.mktemp("spark")
    (work / "duck").mkdir()
    duck = make_project(work / "duck", **SMALL_DEMO)
    _add_report(duck.db_path, "R-SPELLINGS", SPELLINGS_PORTFOLIO, SPELLINGS)
    _add_report(duck.db_path, "R-REPEATED", REPEATED_PORTFOLIO, REPEATED)
    _add_report(duck.db_path, "R-NON-FINITE", NON_FINITE_PORTFOLIO, NON_FINITE)
    _add_bad_input_reports(duck.db_path)
    spark_source = work / "reports.duckdb"
    spark_source.write_bytes(duck.db_path.read_bytes())
    result = duck.run()
    assert result.ok, result.output

    spark_dir = work / "spark"
    env = _spark_env(spark_dir, work)
    seed = SEED_SPARK.format(
        schema=SPARK_SCHEMA,
        ft=FOREIGN_ROW[0],
        fid=FOREIGN_ROW[1],
        fdate=FOREIGN_ROW[2],
        fmodel=FOREIGN_ROW[3],
        fvec=FOREIGN_ROW[4].hex(),
        rp=FOREIGN_REJECT_STATE[0],
        rd=FOREIGN_REJECT_STATE[1],
    )
    seeded = subprocess.run(
        [sys.executable, "-c", seed, str(spark_source)],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    build = subprocess.run(
        [str(DBT), "build",
         "--select", "portfolio_embeddings", "--target", "spark",
         # the source's and staging's own tests (not_null, unique) flag BAD_REPORTS, as
         # on every engine: the pipeline itself must pass
         "--exclude", "source:portfolio_risk", "unique_stg_portfolio_risk__reports_report_id",
         "--project-dir", str(PROJECT_DIR)],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    output = build.stdout + build.stderr
    assert build.returncode == 0, output[-6000:]
    return Engines(duck.db_path, spark_dir / "warehouse", build.stdout)


def test_models_and_data_tests_pass_on_spark(engines):
    summary = [line for line in engines.build_output.splitlines() if "Done. PASS=" in line]
    assert summary, engines.build_output[-3000:]
    assert "Registered adapter: sparklocal=" in engines.build_output
    counts = dict(part.split("=") for part in summary[-1].split("Done. ")[1].split())
    assert counts["ERROR"] == "0" and counts["SKIP"] == "0"
    assert int(counts["PASS"]) >= 9 + 30  # the nine models and the data tests
    for model in ("int_encoder_cards", "numeric_window_embeddings", "joint_embeddings"):
        assert any(
            "OK created python" in line and f"portfolio_embeddings.{model} " in line
            for line in engines.build_output.splitlines()
        ), model


def test_vectors_are_byte_identical_to_duckdb(engines):
    query = (
        "select entity_id, cast(as_of_date as varchar), model_id, vector, "
        "json_extract_string(window_spec, '$.report_id'), "
        "cast(json_extract(window_spec, '$.n_features') as integer) from {} "
        "where entity_type = 'PORTFOLIO' order by all"
    )
    duck = engines.duck(query.format("main.numeric_window_embeddings"))
    spark = engines.duck(query.format(engines.spark_table("numeric_window_embeddings")))
    assert len(duck) > 100
    assert spark == duck  # the stale P00001 row is gone: one row per key, the new bytes
    assert {SPELLINGS_PORTFOLIO, REPEATED_PORTFOLIO, NON_FINITE_PORTFOLIO} <= {
        row[0] for row in spark
    }


def test_window_spec_keys_match_duckdb(engines):
    def specs(relation):
        rows = engines.duck(f"select cast(window_spec as varchar) from {relation} limit 5")
        return [list(json.loads(spec)) for (spec,) in rows]

    assert specs(engines.spark_table("numeric_window_embeddings")) == specs(
        "main.numeric_window_embeddings"
    )


def test_rejects_are_identical_to_duckdb(engines):
    columns = "portfolio_id, cast(as_of_date as varchar), report_id, feature_group, feature_key, "
    columns += "entry_position, raw_value, reason"
    duck = engines.duck(f"select {columns} from main.portfolio_feature_rejects order by all")
    spark = engines.duck(
        f"select {columns} from {engines.spark_table('portfolio_feature_rejects')} "
        f"where portfolio_id <> '{FOREIGN_REJECT_STATE[0]}' order by all"
    )
    # docs/spark.md: a bare NaN nested in an object / array member is null in Spark's
    # raw text of it; the reject is the same
    assert spark == [_nested_non_finite_as_null(row) for row in duck]
    reasons = {(row[2], row[7]) for row in spark}
    assert {
        ("R-BLANK-ID", "invalid_portfolio_id"),
        ("R-NO-DATE", "missing_as_of_date"),
        (DUPLICATE_REPORT_ID, "duplicate_report_id"),
        ("R-MALFORMED", "malformed_json"),
        ("R-MALFORMED-NAN", "malformed_json"),
        ("R-NAN-OPEN-STRING", "malformed_json"),
        ("R-NAN-CUT", "malformed_json"),
        ("R-NAN-DOCUMENT", "not_a_json_object"),
    } <= reasons
    spelled = {(row[4], row[6], row[7]) for row in spark if row[0] == SPELLINGS_PORTFOLIO}
    assert {
        ("f", None, "null_value"),
        ("g", '"1.5"', "string_value"),
        ("h", '{"x":1,"y":[1,2.5]}', "object_value"),
        ("i", "[1,2]", "array_value"),
        ("j", "1e400", "non_finite_number"),
        ("s", "-1E+400", "non_finite_number"),
        ("r", '"a\\"b"', "string_value"),
        (None, '"just text"', "not_a_json_object"),
        (None, "[0.1, 0.2]", "not_a_json_object"),
    } <= spelled
    repeated = {row[3:] for row in spark if row[0] == REPEATED_PORTFOLIO}
    assert repeated == {
        ("risk_metrics", "beta", 1, "1", "duplicate_key"),
        ("risk_metrics", "beta", 3, '"2"', "duplicate_key"),
        ("risk_metrics", "beta", 4, "3", "duplicate_key"),
        ("sector", "Tech", 1, '{"a,}":"x]","b":[1,{"c":2}]}', "duplicate_key"),
        ("sector", "Util", 4, None, "duplicate_key"),
        ("sector", "Util", 5, "1e400", "non_finite_number"),
        ("sector", "Cash", 6, '"a\\"b,{\\\\"', "duplicate_key"),
        ("factor", "mom", 1, "1e400", "duplicate_key"),
        ("factor", "size", 3, "[1,2]", "duplicate_key"),
    }
    non_finite = {row[3:] for row in spark if row[0] == NON_FINITE_PORTFOLIO}
    assert non_finite == {
        ("risk_metrics", "a", 1, "NaN", "non_finite_number"),
        ("risk_metrics", "c", 3, "-Infinity", "non_finite_number"),
        ("risk_metrics", "d", 4, "Infinity", "non_finite_number"),
        ("risk_metrics", "e", 5, "nan", "non_finite_number"),
        ("risk_metrics", "f", 6, "inf", "non_finite_number"),
        ("risk_metrics", "g", 7, "-INF", "non_finite_number"),
        ("risk_metrics", "h", 8, '"NaN"', "string_value"),
        ("risk_metrics", "i", 9, "[1,null]", "array_value"),  # DuckDB: [1,NaN]
        ("risk_metrics", "j", 10, '{"x":null}', "object_value"),  # DuckDB: {"x":-inf}
        ("risk_metrics", "k", 11, "nan", "duplicate_key"),
        ("risk_metrics", "l", 12, "1e400", "non_finite_number"),
        ("risk_metrics", "m", 13, '"x, \\"NaN\\" {"', "string_value"),
        ("risk_metrics", "n", 14, "-nAn", "non_finite_number"),
        ("risk_metrics", "o", 16, "infinity", "non_finite_number"),
        ("sector", "Tech", 1, "-Infinity", "non_finite_number"),
        ("sector", "Util", 3, "NaN", "non_finite_number"),
        ("factor", None, 1, "[NaN, 1]", "not_a_json_object"),
    }


def _nested_non_finite_as_null(row: tuple) -> tuple:
    if row[0] != NON_FINITE_PORTFOLIO or row[7] not in ("object_value", "array_value"):
        return row
    raw = re.sub(r"(?i)(?<![\w.+-])-?(?:infinity|inf|nan)(?![\w.])", "null", row[6])
    return (*row[:6], raw, row[7])


def test_joint_rows_match_duckdb(engines):
    query = (
        "select json_extract_string(entity_scope, '$.portfolio_id'), cast(as_of_date as varchar),"
        " joint_type, model_id, vector from {} order by all"
    )
    duck = engines.duck(query.format("main.joint_embeddings"))
    assert duck and engines.duck(query.format(engines.spark_table("joint_embeddings"))) == duck


def test_rows_of_other_writers_and_states_are_kept(engines):
    numeric = engines.spark_table("numeric_window_embeddings")
    kept = engines.duck(
        f"select embedding_id, entity_type, entity_id, cast(as_of_date as varchar), model_id,"
        f" vector from {numeric} where entity_type <> 'PORTFOLIO'"
    )
    assert kept == [(41, *FOREIGN_ROW)]
    ids = engines.duck(
        f"select count(*), count(distinct embedding_id), min(embedding_id) from {numeric}"
    )
    assert ids[0][0] == ids[0][1] and ids[0][2] == 41  # new rows numbered after the old ones
    assert [column for column, _ in PLATFORM_COLUMNS["numeric_window_embeddings"]] == [
        row[0] for row in engines.duck(f"describe select * from {numeric}")
    ]
    old_rejects = engines.duck(
        f"select report_id from {engines.spark_table('portfolio_feature_rejects')} "
        f"where portfolio_id = '{FOREIGN_REJECT_STATE[0]}'"
    )
    assert old_rejects == [("R-OLD",)]


def test_sparklocal_adapter_extends_dbt_spark():
    from dbt.adapters.factory import get_adapter_type_names, load_plugin
    from dbt.adapters.spark import SparkAdapter
    from dbt.adapters.sparklocal import Plugin
    from dbt_common.exceptions import DbtRuntimeError

    credentials = load_plugin("sparklocal")
    # dispatch and materializations: sparklocal__, then spark__ (dbt-spark's), then default__
    assert get_adapter_type_names("sparklocal") == ["sparklocal", "spark"]
    assert issubclass(Plugin.adapter, SparkAdapter) and Plugin.adapter.type() == "sparklocal"
    assert Plugin.adapter.get_adapter_run_info(None).adapter_name == "sparklocal"
    session = credentials(method="session", host="localhost", schema="s")
    assert session.type == "sparklocal"
    with pytest.raises(DbtRuntimeError, match="method: session"):
        credentials(method="thrift", host="localhost", schema="s")
