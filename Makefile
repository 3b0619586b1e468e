# Two entry points: `make demo` and `make test`. The virtualenv is (re)built only when
# pyproject.toml changes (a new pin, dagster-dg-cli included), tracked by a stamp file.
# `dg check defs` and `dagster definitions validate` load the code location from this directory
# (workspace.yaml, [tool.dagster] and [tool.dg] in pyproject.toml), with no setting in the env.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Two pytest workers (pytest-xdist): most tests wait on processes and HTTP, so two share the CI
# machine's two cores well; worksteal evens out the minute-long tests. `make test PYTEST_WORKERS=0`
# runs them in this one process.
PYTEST_WORKERS ?= 2

.PHONY: demo test tools lint fmt dev sandbox clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/seek-sync demo

test: $(STAMP) tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/dg check defs
	$(BIN)/dagster definitions validate
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist worksteal --durations=25

# Machine tools some tests need beyond Python, as command:package: Debian's Chromium for the
# browser test (Playwright never downloads a browser) and psql for the database-roles test (it runs
# deploy/sql/roles.sql as an operator would). Installed here with apt when missing and running as
# root; otherwise one line each, and those tests skip (or fail under CI=true).
TOOLS := chromium:chromium psql:postgresql-client
tools:
	@for tool in $(TOOLS); do command=$${tool%%:*}; package=$${tool#*:}; \
		command -v $$command >/dev/null || { [ "$$(id -u)" = 0 ] && export DEBIAN_FRONTEND=noninteractive \
		&& { apt-get install -y -q $$package || { apt-get update -q && apt-get install -y -q $$package; }; }; } \
		|| echo "make: no $$command (apt-get install $$package, as root): its tests skip (fail under CI=true)"; \
	done

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

dev: $(STAMP)
	$(BIN)/seek-sync dev

sandbox: $(STAMP)
	$(BIN)/seek-sync sandbox serve --port 8700

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
