# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ONCE ?=

.PHONY: run test lint typecheck unit integration train benchmark browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## run: local broker + SQLite + the four services + demo catalogue + a demo campaign (ONCE=1 exits after it)
run: $(STAMP)
	$(BIN)/tandem demo $(if $(ONCE),--once,)

## test: lint + type check + every test (starts the broker; PostgreSQL from TANDEM_TEST_DATABASE_URL or :5432)
test: lint typecheck browser
	$(BIN)/python -m pytest -q

browser:
	./scripts/ensure-chromium.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not integration"

integration: $(STAMP)
	$(BIN)/python -m pytest -q -m integration

train: $(STAMP)
	$(BIN)/tandem train all

## benchmark: every benchmarks/bench_*.py; results go to benchmarks/results/
benchmark: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
