# The two commands of the README: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint fmt unit bench fuzz clean

install: $(STAMP)

# Idempotent: re-runs only when pyproject.toml changed or the venv is missing.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "godiag needs Python 3.11 or newer (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: install
	$(BIN)/godiag demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: lint
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python bench/goroutines.py

fuzz: install
	HYPOTHESIS_PROFILE=long $(BIN)/pytest -k fuzz

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache dist build

# Static analyzer precision: pinned third-party modules (network, via the module proxy).
.PHONY: fp-corpus fp-bench
fp-corpus: install
	$(BIN)/python bench/analyzer_fp.py --download

fp-bench: install
	$(BIN)/python bench/analyzer_fp.py
