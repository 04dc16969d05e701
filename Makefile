# tensorrom developer commands. `make demo` and `make test` set up .venv on first use
# (and again only when pyproject.toml changes), then run.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
DOCSTAMP := $(VENV)/.installed-docs
OUT    ?= tensorrom-demo
PIP    := $(PY) -m pip --disable-pip-version-check -q

.DEFAULT_GOAL := help
.PHONY: help demo test test-all bench docs lint

help:  ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -U pip
	$(PIP) install -e '.[dev]'
	@touch $(STAMP)

$(DOCSTAMP): $(STAMP)
	$(PIP) install -e '.[dev,docs]'
	@touch $(DOCSTAMP)

demo: $(STAMP)  ## run every finished part on its default data; figures go to $(OUT)/
	$(VENV)/bin/tensorrom demo --out $(OUT)

test: $(STAMP)  ## run the default test suite (excludes slow and gpu tests)
	$(PY) -m pytest -q -n 2

test-all: $(STAMP)  ## run every CPU test, slow ones included
	$(PY) -m pytest -q -n 2 -m "not gpu"

bench: $(STAMP)  ## run the benchmark scripts (prints timings and ratios)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f --quick || exit 1; done

docs: $(DOCSTAMP)  ## build the documentation offline into site/
	$(VENV)/bin/mkdocs build --strict -q

lint: $(STAMP)  ## ruff lint and format check
	$(VENV)/bin/ruff check tensorrom tests examples benchmarks
