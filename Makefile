# Two commands (see README): `make report` runs the main job, `make test` the test suite
# (the full suite CI runs, about 12 minutes); `make test-fast` runs everything but the slow
# statistical checks and the MCMC fits (about 3 minutes).
# Each creates its own virtual environment with a Python >= 3.12 (PYTHON=... to choose one).
# `make lint` runs ruff (rules in pyproject.toml); `make check-report` regenerates the
# committed report and fails if that changed any file.
SHELL := /bin/bash
.DEFAULT_GOAL := report

# Reproducible outputs: the report's timestamp is the time of the last commit that changed
# its inputs, so regenerating an unchanged tree leaves `git status` clean. Outside a git
# checkout, the newest modification time of those inputs. An exported value wins.
REPORT_INPUTS := src models pyproject.toml constraints.txt
ifeq ($(origin SOURCE_DATE_EPOCH),undefined)
SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct -- $(REPORT_INPUTS) 2>/dev/null)
ifeq ($(strip $(SOURCE_DATE_EPOCH)),)
SOURCE_DATE_EPOCH := $(shell find $(REPORT_INPUTS) -type f -printf '%T@\n' 2>/dev/null | sort -n | tail -1 | cut -d. -f1)
endif
endif
export SOURCE_DATE_EPOCH

LINT_PATHS ?= src tests scripts benchmarks

REPORT_VENV := .venv-report
TEST_VENV := .venv-test
NB_VENV := .venv-notebooks

$(REPORT_VENV)/.installed: pyproject.toml constraints.txt
	@PY=$$(scripts/find-python) || exit 1; echo "using $$PY"; \
	  echo "installing bayesnet and its pinned dependencies into $(REPORT_VENV) (about a minute; pip is quiet) ..."; \
	  $$PY -m venv $(REPORT_VENV) && $(REPORT_VENV)/bin/python -m pip install -q --upgrade pip && \
	  $(REPORT_VENV)/bin/python -m pip install -q -c constraints.txt -e . && touch $@

$(TEST_VENV)/.installed: pyproject.toml constraints.txt
	@PY=$$(scripts/find-python) || exit 1; echo "using $$PY"; \
	  echo "installing bayesnet and its pinned dependencies into $(TEST_VENV) (about a minute; pip is quiet) ..."; \
	  $$PY -m venv $(TEST_VENV) && $(TEST_VENV)/bin/python -m pip install -q --upgrade pip && \
	  $(TEST_VENV)/bin/python -m pip install -q -c constraints.txt -e '.[test]' && touch $@

$(NB_VENV)/.installed: pyproject.toml constraints.txt
	@PY=$$(scripts/find-python) || exit 1; echo "using $$PY"; \
	  echo "installing bayesnet and its pinned dependencies into $(NB_VENV) (about a minute; pip is quiet) ..."; \
	  $$PY -m venv $(NB_VENV) && $(NB_VENV)/bin/python -m pip install -q --upgrade pip && \
	  $(NB_VENV)/bin/python -m pip install -q -c constraints.txt -e '.[notebooks]' && touch $@

.PHONY: report test test-fast lint check-report notebooks lab benchmarks clean
report: $(REPORT_VENV)/.installed
	@echo "SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH)"
	$(REPORT_VENV)/bin/bayesnet report models/ptr_bias_adjusted.toml --out results/gepnet_ptr
	$(REPORT_VENV)/bin/bayesnet report models/liver_resection_case_series.toml --out results/liver_resection

# Fails when regenerating the committed report changes it (run on a clean checkout).
check-report: report
	@if [ -n "$$(git status --porcelain -- results/gepnet_ptr results/liver_resection)" ]; then \
	  echo "make report changed committed files:"; git status --porcelain -- results/gepnet_ptr results/liver_resection; exit 1; \
	else echo "make report left results/gepnet_ptr and results/liver_resection unchanged"; fi

test: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python -m pytest

# Everything but the tests marked slow (calibration, coverage, notebooks) or mcmc (PyMC fits).
test-fast: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python -m pytest -m "not slow and not mcmc"

lint: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python -m ruff check $(LINT_PATHS)

# Regenerates notebooks/*.ipynb from scripts/make_notebooks.py (outputs stripped).
notebooks: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python scripts/make_notebooks.py

# Opens the example notebooks in JupyterLab (installs the `notebooks` extra).
lab: $(NB_VENV)/.installed
	cd notebooks && ../$(NB_VENV)/bin/jupyter lab

benchmarks: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python benchmarks/run_benchmarks.py

clean:
	rm -rf $(REPORT_VENV) $(TEST_VENV) $(NB_VENV)
