# Two entry points: `make demo` and `make test`. The virtualenv is (re)built only when
# pyproject.toml changes, tracked by a stamp file.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint fmt dev sandbox clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/seek-sync demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/dagster definitions validate -m seek_sync.definitions
	$(BIN)/pytest -q

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

dev: $(STAMP)
	$(BIN)/seek-sync dev

sandbox: $(STAMP)
	$(BIN)/seek-sync sandbox serve --port 8700

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
