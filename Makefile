# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ONCE ?=

.PHONY: run test postgres kafka lint typecheck unit integration train benchmark browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: local broker + SQLite + the four services + demo catalogue + a demo campaign (ONCE=1 exits after it)
run: $(STAMP)
	$(BIN)/tandem demo $(if $(ONCE),--once,)

## test: lint + type check + every test (starts Apache Kafka from the jar cache, fetched with Maven once;
## PostgreSQL from TANDEM_TEST_DATABASE_URL, else a trust server on :5432, else the project's own test
## server, installed with apt and started here). TANDEM_TEST_BROKER=tansu runs it all on tansu instead.
test: lint typecheck browser kafka
	url=$$(./scripts/ensure-postgres.sh) && TANDEM_TEST_DATABASE_URL="$$url" $(BIN)/python -m pytest -q

## postgres: print the test PostgreSQL's admin URL, installing and starting the server if needed
postgres:
	@./scripts/ensure-postgres.sh

## kafka: resolve Apache Kafka's jars (deploy/kafka/pom.xml) into ~/.cache/tandem/kafka-<version>, once
kafka: $(STAMP)
	@if [ "$${TANDEM_TEST_BROKER:-kafka}" = kafka ]; then $(BIN)/python -m shared.broker_kafka; fi

browser:
	./scripts/ensure-chromium.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	url=$$(./scripts/ensure-postgres.sh) && TANDEM_TEST_DATABASE_URL="$$url" $(BIN)/python -m pytest -q -m "not integration"

integration: $(STAMP)
	url=$$(./scripts/ensure-postgres.sh) && TANDEM_TEST_DATABASE_URL="$$url" $(BIN)/python -m pytest -q -m integration

train: $(STAMP)
	$(BIN)/tandem train all

## benchmark: every benchmarks/bench_*.py; results go to benchmarks/results/
benchmark: $(STAMP)
	url=$$(./scripts/ensure-postgres.sh) && TANDEM_TEST_DATABASE_URL="$$url" $(BIN)/python -m benchmarks

clean:
	./scripts/ensure-postgres.sh stop
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
