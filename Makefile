# portfolio-embeddings: the two commands a user needs.
#   make run    venv + pinned installs, demo data if absent (demo file only), the pipeline, a summary
#   make test   venv + pinned installs, then every test (lint, pytest, dbt build)
# Both set themselves up on a fresh machine; nothing is installed by hand.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The demo file: `make run` fills it with demo reports when it has none. Any other file
# must exist already (a typo must not become a new file full of demo data).
DEMO_DUCKDB_PATH := portfolio_embeddings.duckdb
PORTFOLIO_DUCKDB_PATH ?= $(DEMO_DUCKDB_PATH)
DBT_VARS ?= {}

# dbt must never phone home from a machine without internet.
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_PROFILES_DIR := $(CURDIR)
export PORTFOLIO_DUCKDB_PATH

.PHONY: run test lint venv profiles demo-data bench pg-prereqs clean
.PHONY: spark-venv java-prereqs spark-demo spark-run spark-test spark-bench

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python scripts/link_duckdb_extensions.py --dir .duckdb_extensions
	touch $@

# dbt reads ./profiles.yml (DBT_PROFILES_DIR above). A user's own profiles.yml is
# never overwritten: the example is copied only when there is none.
profiles: profiles.yml
profiles.yml:
	cp -n profiles.example.yml profiles.yml

# An explicit request: demo reports into PORTFOLIO_DUCKDB_PATH (a table that exists is
# never touched).
demo-data: venv
	$(BIN)/python scripts/demo_data.py --db $(PORTFOLIO_DUCKDB_PATH)

# dbt seed loads seeds/reference_states.csv (the references the distances use).
run: venv profiles
ifeq ($(PORTFOLIO_DUCKDB_PATH),$(DEMO_DUCKDB_PATH))
	$(BIN)/python scripts/demo_data.py --db $(PORTFOLIO_DUCKDB_PATH)
else
	@test -f "$(PORTFOLIO_DUCKDB_PATH)" || { \
	  echo "make run: $(PORTFOLIO_DUCKDB_PATH) does not exist. Set PORTFOLIO_DUCKDB_PATH to the DuckDB file that holds main.portfolio_risk_reports, leave it out to run the demo, or create demo data there with: make demo-data PORTFOLIO_DUCKDB_PATH=$(PORTFOLIO_DUCKDB_PATH)" >&2; \
	  exit 2; }
endif
	$(BIN)/dbt seed --select reference_states --vars '$(DBT_VARS)'
	$(BIN)/dbt run --select portfolio_embeddings --vars '$(DBT_VARS)'
	$(BIN)/python scripts/summary.py --db $(PORTFOLIO_DUCKDB_PATH)

lint: venv profiles
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PORTFOLIO_DUCKDB_PATH=$$(mktemp -d)/lint.duckdb $(BIN)/sqlfluff lint models

# The PostgreSQL tests start their own server: they need PostgreSQL's initdb/pg_ctl
# (Debian's postgresql package, which also creates the `postgres` system user).
pg-prereqs:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; \
	then echo "PostgreSQL server binaries found"; \
	else $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; fi

# The Spark target (docs/spark.md): its pins on top of the default ones, in the same venv
# (pip check is clean), installed only for the Spark target and `make test`; then the
# project's dbt adapter `sparklocal` (adapters/dbt-sparklocal), as a regular install:
# dbt imports adapters from site-packages' dbt/adapters folder. setuptools builds in the
# source folder: its build/ is removed so that no stale file gets into the wheel.
SPARK_STAMP := $(VENV)/.installed-spark
SPARKLOCAL := adapters/dbt-sparklocal
SPARKLOCAL_FILES := $(SPARKLOCAL)/pyproject.toml $(wildcard $(SPARKLOCAL)/dbt/*/sparklocal/*.*)
spark-venv: $(SPARK_STAMP)
$(SPARK_STAMP): $(STAMP) requirements-spark.txt $(SPARKLOCAL_FILES)
	$(BIN)/python -m pip install --quiet -r requirements-spark.txt
	rm -rf $(SPARKLOCAL)/build
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall ./$(SPARKLOCAL)
	rm -rf $(SPARKLOCAL)/build
	$(BIN)/python -m pip check
	touch $@

# Spark 4 needs Java 17+: Debian's openjdk-17-jre-headless when no java is found.
java-prereqs:
	@if java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then echo "Java found: $$(java -version 2>&1 | head -1)"; \
	else $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless; fi

# The local Spark target, as `make run` is for DuckDB: the demo reports put into the
# Spark catalog (PORTFOLIO_SPARK_DIR, default ./spark-warehouse), then the pipeline.
spark-demo: spark-venv java-prereqs profiles demo-data
	$(BIN)/python -m portfolio_embeddings.spark_source --db $(PORTFOLIO_DUCKDB_PATH)

spark-run: spark-venv java-prereqs profiles
	$(BIN)/dbt run --select portfolio_embeddings --target spark --vars '$(DBT_VARS)'

spark-test: spark-venv java-prereqs profiles
	$(BIN)/python -m pytest tests/test_spark.py

spark-bench: spark-venv java-prereqs profiles
	$(BIN)/python bench/bench_spark.py $(BENCH_ARGS)

test: venv spark-venv profiles lint pg-prereqs java-prereqs
	$(BIN)/python -m pytest

bench: venv profiles
	$(BIN)/python bench/bench_pipeline.py $(BENCH_ARGS)

clean:
	rm -rf target logs .pytest_cache .ruff_cache
