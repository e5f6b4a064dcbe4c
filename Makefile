# The two commands of the README: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: go-toolchains sarif-multitool test-deps
.PHONY: install demo test lint fmt unit bench fuzz clean

install: $(STAMP)

# What only the test suite needs (extra toolchains, npm tools); each part fails soft.
test-deps: go-toolchains sarif-multitool

# Older and newer Go toolchains for the doctor integration tests, cached in the module
# cache through GOTOOLCHAIN. Fails soft: tests that need them skip with the reason.
DOCTOR_TOOLCHAINS ?= go1.22.12 go1.27.4
go-toolchains:
	@for v in $(DOCTOR_TOOLCHAINS); do \
	  GOTOOLCHAIN=$$v GOFLAGS= go version >/dev/null 2>&1 \
	    && echo "go toolchain $$v cached" \
	    || echo "warning: could not fetch Go toolchain $$v (doctor tests using it will skip)"; \
	done

# Microsoft's SARIF Multitool (validates doctor's SARIF output), project-local.
SARIF_MULTITOOL := .cache/npm/node_modules/.bin/sarif-multitool
sarif-multitool:
	@test -x $(SARIF_MULTITOOL) || { command -v npm >/dev/null 2>&1 \
	  && npm install --silent --no-audit --no-fund --prefix .cache/npm @microsoft/sarif-multitool >/dev/null 2>&1 \
	  && echo "sarif-multitool installed" \
	  || echo "warning: could not install @microsoft/sarif-multitool (SARIF validation test will skip)"; }

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

test: lint test-deps
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python bench/goroutines.py
	$(BIN)/python bench/doctor.py
	$(BIN)/python bench/run_overhead.py 5

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
