# make demo  - set up and run the demo
# make test  - set up and run the whole test suite
# make lint  - ruff and mypy (part of make test)
# make test-engine-plain - the workflow tests on moto's own code paths (the adapter's speed-ups off; CI runs it)
# make setup - create .venv and install the pinned dependencies (quick when nothing changed)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
REQS   := requirements/runtime.txt requirements/dev.txt $(wildcard requirements/infra.txt) constraints.txt pyproject.toml
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: setup demo test test-engine-plain lint up bench bench-dispatch lock clean

setup: $(VENV)/.installed $(if $(wildcard package-lock.json),node_modules/.installed)

$(VENV)/.installed: $(REQS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements/dev.txt $(if $(wildcard requirements/infra.txt),-r requirements/infra.txt) -c constraints.txt
	$(PIP) install -q --no-deps --no-build-isolation -e . 2>/dev/null || $(PIP) install -q --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(VENV)/bin/fleet demo

test: setup lint browser
	$(PY) -m pytest -q

# Debian's Chromium for the browser tests (tests/browser, driven by Playwright): installed when
# missing if we are root with apt-get; otherwise the browser tests skip and say why (and fail under CI=true).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
	    apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else echo "make browser: no chromium, and installing it needs root and apt-get: the browser tests will skip"; fi; }

# The adapter's speed-ups must not change an answer: the workflow tests again without them. Not part
# of `make test`: moto's own code paths take about three times the CPU (about 100 s more).
test-engine-plain: setup
	FLEET_ENGINE_SPEEDUPS=0 $(PY) -m pytest -q tests/workflows

# Style (ruff) and types (mypy), configured in pyproject.toml.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

up: setup
	$(VENV)/bin/fleet up

bench: setup
	$(PY) bench/run.py

bench-dispatch: setup
	$(PY) bench/dispatch.py

# Re-resolve the lock after changing requirements/*.txt.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q -r requirements/dev.txt $(if $(wildcard requirements/infra.txt),-r requirements/infra.txt)
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^car-fleet-workflows' > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) node_modules .pytest_cache
