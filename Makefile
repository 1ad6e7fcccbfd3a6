# Two commands (see README): `make report` runs the main job, `make test` the test suite.
# Each creates its own virtual environment with a Python >= 3.12 (PYTHON=... to choose one).
SHELL := /bin/bash
.DEFAULT_GOAL := report

REPORT_VENV := .venv-report
TEST_VENV := .venv-test

$(REPORT_VENV)/.installed: pyproject.toml
	@PY=$$(scripts/find-python) || exit 1; echo "using $$PY"; \
	  $$PY -m venv $(REPORT_VENV) && $(REPORT_VENV)/bin/python -m pip install -q --upgrade pip && \
	  $(REPORT_VENV)/bin/python -m pip install -q -e . && touch $@

$(TEST_VENV)/.installed: pyproject.toml
	@PY=$$(scripts/find-python) || exit 1; echo "using $$PY"; \
	  $$PY -m venv $(TEST_VENV) && $(TEST_VENV)/bin/python -m pip install -q --upgrade pip && \
	  $(TEST_VENV)/bin/python -m pip install -q -e '.[test]' && touch $@

.PHONY: report test benchmarks clean
report: $(REPORT_VENV)/.installed
	$(REPORT_VENV)/bin/bayesnet report models/ptr_random_effects.toml --out results/gepnet_ptr

test: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python -m pytest

benchmarks: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python benchmarks/run_benchmarks.py

clean:
	rm -rf $(REPORT_VENV) $(TEST_VENV)
