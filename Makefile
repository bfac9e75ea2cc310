# auditround: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: install browser demo test test-postgres test-scale-out lint typecheck bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's chromium (Playwright never downloads a browser of its own)
# and the PDF checks read with poppler-utils (pdftotext); each is installed once, when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y

browser:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
		echo "installing from Debian:$$missing"; \
		$(APT_INSTALL) $$missing || { $(SUDO) apt-get update && $(APT_INSTALL) $$missing; }; \
	fi

demo: $(STAMP)
	$(BIN)/python -m examples.demo

test: $(STAMP) browser
	$(BIN)/pytest -q

test-postgres: $(STAMP)
	AUDITROUND_TEST_DATABASE_URL=$${AUDITROUND_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(BIN)/pytest -q -m database

# Not part of `make test` (it needs PostgreSQL): the `scale_out` marker is left out unless asked for.
test-scale-out: $(STAMP)
	AUDITROUND_TEST_DATABASE_URL=$${AUDITROUND_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(BIN)/pytest -q -m scale_out

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/plan_round.py
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/cli_start.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/portal.py

clean:
	rm -rf out var .pytest_cache .mypy_cache
