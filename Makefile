# Two commands on a fresh machine: `make demo` (set up, import the synthetic export, build, show)
# and `make test`. Everything lives in .venv; nothing is installed system-wide.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# Tests run in one worker per core and one more (much of the suite waits on subprocesses, daemons and browsers: on
# 2 cores, 3 workers took 13:27 where 2 took 14:30), a test file per worker at a time.
WORKERS := $(shell expr $$(nproc 2>/dev/null || echo 1) + 1)
PYTEST := $(BIN)/pytest -q -n $(WORKERS) --dist loadfile

.PHONY: install demo test test-fast ui bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	$(BIN)/spotify-assets prepare
	touch $(STAMP)

# The test runner and Selenium (pyproject.toml's `test` extra), on top of what `install` puts in place.
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

demo: install
	$(BIN)/spotify-assets demo

test: $(TEST_STAMP)
	$(PYTEST) -rs

# Skips the end-to-end tests marked slow (CI runs them all through `make test`).
test-fast: $(TEST_STAMP)
	$(PYTEST) -m "not slow"

ui: install
	$(BIN)/spotify-assets ui

# 10k, 100k and 1M plays: import, poll update, range macros, against a pandas baseline (bench/run.py).
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf data dbt_project/target dbt_project/logs
