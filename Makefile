# coalition: `make run` solves the sample case, `make test` runs lint, types and tests,
# `make bench` times the engine, `make figures` draws the README's figures again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test test-slow lint types pytest bench figures clean

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

# In two processes (pytest-xdist), one per core of the 2-core machine it is developed on:
# every test keeps to its own tmp_path. Plain `python -m pytest` runs in one process.
pytest: $(DEVSTAMP)
	$(BIN)/python -m pytest -n 2

test: lint types pytest

# What make test leaves out to stay under ten minutes: the further random seeds and larger
# cases of the formulation and game tests (pytest -m exhaustive --exhaustive).
test-slow: $(DEVSTAMP)
	$(BIN)/python -m pytest --exhaustive -m exhaustive

bench: $(DEVSTAMP)
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench.two_stage M
	$(BIN)/python -m tests.bench.alternatives
	$(BIN)/python -m tests.bench.share
	$(BIN)/python -m tests.bench.game_arithmetic
	$(BIN)/python -m tests.bench.game_separation
	$(BIN)/python -m tests.bench.sensitivity
	$(BIN)/python -m tests.bench.hard_cap
	$(BIN)/python -m tests.bench.strengthen_cost

# The sample's figures of README.md, drawn again by the code that draws them for every user,
# so that they never drift from it. The runs go to out/figures (kept, for a look).
FIGURES := data/allied-ai-stack/figures
FIG_OUT := out/figures
figures: $(STAMP)
	rm -rf $(FIG_OUT) && mkdir -p $(FIG_OUT)
	$(BIN)/coalition sweep models/allied-ai-stack.toml --out $(FIG_OUT)/sweep -q
	cp $(FIG_OUT)/sweep/plots/layers.max_share.png $(FIGURES)/max-share-sweep.png
	$(BIN)/coalition frontier models/allied-ai-stack.toml --trade-off layers.max_share \
	    --points 6 --out $(FIG_OUT)/frontier -q
	cp $(FIG_OUT)/frontier/frontier.png $(FIGURES)/max-share-frontier.png
	$(BIN)/coalition solve models/allied-ai-stack-shocks.toml --out $(FIG_OUT)/shocks -q
	$(BIN)/coalition stress models/allied-ai-stack-shocks.toml --sample 2000 --seed 1 \
	    --workers 2 --run $(FIG_OUT)/shocks --out $(FIG_OUT)/shocks-mc -q
	cp $(FIG_OUT)/shocks-mc/unmet_histogram.png $(FIGURES)/shocks-unmet-histogram.png
	$(BIN)/coalition share models/allied-ai-stack.toml --players bloc --out $(FIG_OUT)/share -q
	cp $(FIG_OUT)/share/plots/savings.png $(FIGURES)/share-blocs-savings.png
	$(BIN)/coalition alternatives models/allied-ai-stack.toml --slack 0.002,0.005,0.01,0.02 \
	    --minimize 'share[TW,semiconductors]' --out $(FIG_OUT)/tw-chips -q
	cp $(FIG_OUT)/tw-chips/plots/alternatives.png $(FIGURES)/tw-chips-alternatives.png
	$(BIN)/coalition sensitivity models/allied-ai-stack-chain.toml --workers 2 \
	    --out $(FIG_OUT)/sensitivity -q
	cp $(FIG_OUT)/sensitivity/plots/objective.png $(FIGURES)/sensitivity-cost-morris.png
	cp $(FIG_OUT)/sensitivity/plots/share_TW_semiconductors.png \
	    $(FIGURES)/sensitivity-tw-chips-morris.png

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
