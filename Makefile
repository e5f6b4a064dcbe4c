# The two commands of the README: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: go-toolchains sarif-multitool test-deps system-deps k8s-bins helm-bin
.PHONY: collect collect-corpus collect-thirdparty collect-slow train eval eval-slow
.PHONY: install demo test lint fmt unit bench fuzz clean old-go-binaries scenario-modules

install: $(STAMP)

# What only the test suite needs (Debian packages, extra toolchains, npm tools); each part
# fails soft: a test that needs a missing piece skips with the reason.
test-deps: system-deps
	@$(MAKE) --no-print-directory go-toolchains sarif-multitool old-go-binaries scenario-modules \
	  k8s-bins helm-bin

# Debian packages (graphviz, gcc, postgresql, chromium, prometheus, alertmanager, npm):
# installed when run as root with apt-get, else listed with the command that installs them.
system-deps:
	@bash tools/system-deps.sh

# A real kube-apiserver and etcd for the Kubernetes tests (tests/k8s.py), built from source
# through the module proxy into .cache/k8s/bin, cached by version (cold: about 15 minutes on
# 2 cores). Fails soft: a warning, and the Kubernetes tests skip with the reason.
k8s-bins:
	@nice bash tools/k8s-bins.sh || echo "warning: tools/k8s-bins.sh failed (Kubernetes tests will skip)"

# The scenario services' module dependencies, so tests can build them with GOPROXY=off.
scenario-modules:
	cd go/scenarios && GOFLAGS= GOWORK=off go mod download
	cd go/corpus && GOFLAGS= GOWORK=off go mod download

# Older and newer Go toolchains for the doctor and inspect integration tests, cached in the module
# cache through GOTOOLCHAIN. Fails soft: tests that need them skip with the reason.
DOCTOR_TOOLCHAINS ?= go1.22.12 go1.27.4 go1.19.13
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

# Helm, built from the Go module proxy into .cache/k8s/bin (the chart's lint, template and
# apply tests). Fails soft: those tests skip with the reason.
HELM_VERSION ?= v4.3.2
HELM := .cache/k8s/bin/helm
helm-bin:
	@test -x $(HELM)-$(HELM_VERSION) || { tmp=$$(mktemp -d) && GOFLAGS= GOBIN=$$tmp \
	  go install -ldflags "-X helm.sh/helm/v4/internal/version.version=$(HELM_VERSION)" \
	    helm.sh/helm/v4/cmd/helm@$(HELM_VERSION) \
	  && mkdir -p .cache/k8s/bin && mv $$tmp/helm $(HELM)-$(HELM_VERSION) && rm -rf $$tmp \
	  && echo "helm $(HELM_VERSION) built" \
	  || echo "warning: could not build helm $(HELM_VERSION) (chart tests will skip)"; }
	@test ! -x $(HELM)-$(HELM_VERSION) || ln -sf helm-$(HELM_VERSION) $(HELM)

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
	$(BIN)/python -P bench/goroutines.py
	$(BIN)/python -P bench/doctor.py
	$(BIN)/python -P bench/run_overhead.py 5
	$(BIN)/python -P bench/inspect.py
	$(BIN)/python -P bench/store.py
	$(BIN)/python -P bench/profiles.py
	$(BIN)/python -P bench/serve.py
	$(BIN)/python -P bench/diagnose.py
	$(BIN)/python -P bench/hostile_rss.py

fuzz: install
	HYPOTHESIS_PROFILE=long $(BIN)/pytest -k fuzz

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache dist build

# Real pre-Go-1.18 binaries (pointer-based build info; 32-bit, big-endian, Mach-O, PE) from
# 2021 esbuild npm packages, unpacked into .cache/old-go-binaries (never committed).
OLD_GO_NPM := esbuild-linux-64@0.13.15 esbuild-linux-32@0.13.15 esbuild-linux-s390x@0.14.10 \
              esbuild-darwin-64@0.13.15 esbuild-windows-64@0.13.15
old-go-binaries:
	@mkdir -p .cache/old-go-binaries
	@cd .cache/old-go-binaries && for spec in $(OLD_GO_NPM); do p=$${spec%@*}; \
	  test -d $$p || { tgz=$$(npm pack --silent $$spec) && mkdir -p $$p.tmp && \
	  tar -xzf $$tgz -C $$p.tmp && rm -f $$tgz && mv $$p.tmp $$p; } \
	  || echo "warning: could not fetch $$spec"; \
	done
# Regenerate the committed pprof protobuf module from the vendored profile.proto
# (grpcio-tools is a dev dependency; the generated file is committed so users need only `protobuf`).
proto: install
	cd src/godiag/formats && ../../../$(BIN)/python -m grpc_tools.protoc -I. --python_out=. profile.proto
# Static analyzer precision: pinned third-party modules (network, via the module proxy).
.PHONY: fp-corpus fp-bench
fp-corpus: install
	$(BIN)/python -P bench/analyzer_fp.py --download

fp-bench: install
	$(BIN)/python -P bench/analyzer_fp.py

# Doctor precision: pinned third-party modules, a go.work workspace, a vendored module, etcd in
# its repository layout (network, via the module proxy; fails soft), then the offline bench.
.PHONY: doctor-corpus doctor-bench
doctor-corpus: install
	$(BIN)/python -P bench/doctor_fp.py --download

doctor-bench: install
	$(BIN)/python -P bench/doctor_fp.py

# Root-cause ranker of `godiag diagnose`: dataset from the scenario programs, the model
# file rebuilt from it (seeded, byte for byte), and the leave-one-program-out evaluation.
# collect runs 37 programs x 3 intensities x 2 runs one at a time (about 50 minutes; keep
# the machine otherwise idle: CPU and GC rates are features).
collect: install scenario-modules
	$(BIN)/python -m tools.rootcause_collect

# The go/corpus templates (docs/scenarios.md), each variant twice in rotating exposure,
# load-shape and intensity configurations (about 40 minutes for 12 templates).
collect-corpus: install scenario-modules
	$(BIN)/python -m tools.rootcause_collect --corpus all

# Real third-party daemons (Prometheus, Alertmanager, SeaweedFS master, etcd) at rest and under
# steady and ramping client load, as healthy rows, one template per daemon (about 15 minutes).
collect-thirdparty: install test-deps
	$(BIN)/python -m tools.thirdparty_collect

# Slow faults watched for minutes (go/corpus leaks and healthy look-alikes at a fraction of
# their load, a stored baseline and a real Prometheus): bundles into data/diagnose/slow/
# (about 45 minutes, 8 programs at a time).
collect-slow: install scenario-modules system-deps
	$(BIN)/python -m tools.slow_collect

train: install
	$(BIN)/python -m tools.rootcause_train train

eval: install
	$(BIN)/python -m tools.rootcause_train eval
	$(BIN)/python -m tools.slow_eval
	nice $(BIN)/python -P bench/goker_modes.py

# Recall of `godiag analyze` on the GoKer blocking-bug kernels shipped with Go 1.26+ (read
# from GOROOT at run time, analyzed in temporary modules; never copied into the project).
.PHONY: goker-eval goker-modes
# The slow-fault bundles replayed with models fitted without each run's template (also part
# of `make eval`).
eval-slow: install
	$(BIN)/python -m tools.slow_eval

goker-eval: install
	$(BIN)/python -P bench/goker_eval.py

# Recall per mode (run --leaks on a test calling each kernel, goroutines on its dump,
# analyze) and combined, over the kernels whose bug manifested (also part of `make eval`).
goker-modes: install
	nice $(BIN)/python -P bench/goker_modes.py
