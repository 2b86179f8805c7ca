# Two commands on a fresh machine: `make demo` (set up, import the synthetic export, build, show)
# and `make test`. Everything lives in .venv; nothing is installed system-wide.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast ui bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	$(BIN)/spotify-assets prepare
	touch $(STAMP)

demo: install
	$(BIN)/spotify-assets demo

test: install
	$(BIN)/pytest -q -rs

# Skips the end-to-end tests marked slow (CI runs them all through `make test`).
test-fast: install
	$(BIN)/pytest -q -m "not slow"

ui: install
	$(BIN)/spotify-assets ui

# 10k, 100k and 1M plays: import, poll update, range macros, against a pandas baseline (bench/run.py).
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf data dbt_project/target dbt_project/logs
