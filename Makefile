# The two set-up commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DB ?= var/demo.sqlite

.PHONY: demo test lint typecheck pytest services stop-services bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	DATABASE_URL=sqlite:///$(DEMO_DB) CELERY_ALWAYS_EAGER=1 $(BIN)/matchmaker demo --fresh

services:
	bash scripts/services.sh start

stop-services:
	bash scripts/services.sh stop

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) services
	set -a && source var/services.env && set +a && $(BIN)/pytest -n 2 -q

test: lint typecheck pytest

bench: $(STAMP) services
	set -a && source var/services.env && set +a && \
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
