# coalition: `make run` solves the sample case, `make test` runs lint, types and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test lint types pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP) $@

run: $(STAMP)
	$(BIN)/coalition solve models/allied-ai-stack.toml --out out/allied-ai-stack --force

lint: $(DEVSTAMP)
	$(BIN)/ruff check solver tests

types: $(DEVSTAMP)
	$(BIN)/mypy

pytest: $(DEVSTAMP)
	$(BIN)/python -m pytest

test: lint types pytest

bench: $(DEVSTAMP)
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench.two_stage M
	$(BIN)/python -m tests.bench.alternatives
	$(BIN)/python -m tests.bench.share
	$(BIN)/python -m tests.bench.game_arithmetic
	$(BIN)/python -m tests.bench.game_separation
	$(BIN)/python -m tests.bench.sensitivity

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
