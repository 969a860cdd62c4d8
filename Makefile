# The two set-up commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The demo is the default database, so every README command after `make demo` works on it.
DEMO_DB := var/matchmaker.sqlite

.PHONY: demo test lint contracts typecheck pytest services stop-services bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# A random SECRET_KEY in .env (git-ignored, mode 600) unless it has one: `matchmaker serve`
# refuses a missing-in-production, short or well-known key. The demo rebuilds (--fresh) the default
# SQLite file; a DATABASE_URL set elsewhere is never touched.
demo: $(STAMP)
	@grep -qs '^SECRET_KEY=' .env || { umask 077; [ -z "$$(tail -c1 .env 2>/dev/null)" ] || echo >> .env; \
	  echo "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))')" >> .env; \
	  echo "已在 .env 写入随机 SECRET_KEY"; }
	@if [ -n "$$DATABASE_URL" ] || grep -qs '^DATABASE_URL=' .env; then \
	  echo "注意：环境变量或 .env 设置了 DATABASE_URL，之后的命令将使用它，而不是演示数据库 $(DEMO_DB)"; fi
	DATABASE_URL=sqlite:///$(DEMO_DB) CELERY_ALWAYS_EAGER=1 $(BIN)/matchmaker demo --fresh

services:
	bash scripts/services.sh start

stop-services:
	bash scripts/services.sh stop

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The import contracts of pyproject.toml ([tool.importlinter]): layers, a pure matching core,
# independent services areas.
contracts: $(STAMP)
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) services
	set -a && source var/services.env && set +a && $(BIN)/pytest -n 2 -q

test: lint contracts typecheck pytest

bench: $(STAMP) services
	set -a && source var/services.env && set +a && \
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
