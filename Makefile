# otoorder: the two commands of the README are `make run` and `make test`.
# GNU make; needs Python 3.11 and Node.js/npm (front-end assets from the npm registry).

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first of python3.11 / python3 that really is Python 3.11.
PYTHON ?= $(shell for p in python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
REQUIREMENTS_STAMP := $(VENV)/.requirements.stamp
TEST_REQUIREMENTS_STAMP := $(VENV)/.requirements-test.stamp
ASSETS_STAMP := node_modules/.otoorder-assets.stamp

PORT ?= 8000
MAIL_PORT ?= 2525
SANDBOX_PORT ?= 8700
# Demo database, broker folders and received demo mail (settings read the same variable).
OTOORDER_VAR_DIR ?= $(CURDIR)/var
export OTOORDER_VAR_DIR

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/otoorder
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: help run test bench messages clean distclean venv assets

help:
	@echo "make run    start otoorder with demo data on http://127.0.0.1:$(PORT)/ (PORT=... to change)"
	@echo "make test   run the test suite (PostgreSQL and Redis on 127.0.0.1, Debian's chromium)"
	@echo "make bench  run the benchmarks in bench/ (the last, worker memory after 10,000 orders, takes longest)"
	@echo "make messages  update and compile the English translations in locale/"
	@echo "make clean  remove demo data, broker folders, received mail and caches (distclean: also .venv and node_modules)"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "otoorder needs Python 3.11 (as python3.11 or python3)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall only when a requirements file changed.
$(REQUIREMENTS_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(TEST_REQUIREMENTS_STAMP): requirements-test.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	@touch $@ $(REQUIREMENTS_STAMP)

$(ASSETS_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "otoorder needs Node.js/npm for its front-end assets." >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

venv: $(REQUIREMENTS_STAMP)
assets: $(ASSETS_STAMP)

run: export PATH := $(CURDIR)/$(BIN):$(PATH)
run: export DJANGO_ENV := development
run: export EMAIL_URL := smtp://127.0.0.1:$(MAIL_PORT)
run: export MAIL_PORT := $(MAIL_PORT)
# The sandbox lab (otoorder/sandbox/) and what the demo's lab interfaces need from the operator.
run: export SANDBOX_PORT := $(SANDBOX_PORT)
run: export OTOORDER_SANDBOX_URL := http://127.0.0.1:$(SANDBOX_PORT)
run: export OTOORDER_BASE_URL := http://127.0.0.1:$(PORT)
run: export OTOORDER_COMMAND_ALLOWLIST := $(CURDIR)/otoorder/sandbox/bin
run: export OTOORDER_EXCHANGE_ROOT := $(OTOORDER_VAR_DIR)/exchange
run: export OTOORDER_POLL_INTERVAL ?= 20
run: $(REQUIREMENTS_STAMP) $(ASSETS_STAMP)
	@mkdir -p $(addprefix $(OTOORDER_VAR_DIR)/,broker/out broker/control broker/processed mail exchange/otoport/out exchange/otoport/in)
	python manage.py migrate --noinput
	python manage.py load_demo_data
	@echo
	@echo "  otoorder: http://127.0.0.1:$(PORT)/"
	@echo "  Demo logins (password otoorder-demo):"
	@echo "    demo-staff  staff of Filiale Mitte"
	@echo "    demo-admin  chain administrator (Filialverwaltung)"
	@echo "  Demo e-mails to labs land in $(OTOORDER_VAR_DIR)/mail/ (SMTP sink on 127.0.0.1:$(MAIL_PORT))."
	@echo "  Sandbox lab (every lab interface of the demo): http://127.0.0.1:$(SANDBOX_PORT)/"
	@echo "    exchange folders $(OTOORDER_EXCHANGE_ROOT)/otoport/{out,in}, labs polled every $(OTOORDER_POLL_INTERVAL) s"
	@echo "  Stop with Ctrl+C."
	@echo
	exec honcho start --procfile Procfile --port $(PORT)

test: $(TEST_REQUIREMENTS_STAMP) $(ASSETS_STAMP)
	$(BIN)/lint-imports --config .importlinter --no-cache
	DJANGO_ENV=development DATABASE_URL="$(TEST_DATABASE_URL)" CELERY_BROKER_URL="$(TEST_REDIS_URL)" \
		CI="$(CI)" $(BIN)/pytest $(PYTEST_ARGS)

bench: $(TEST_REQUIREMENTS_STAMP) $(ASSETS_STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/scans.py
	$(BIN)/python bench/live_status.py
	$(BIN)/python bench/scorecard.py

messages: $(REQUIREMENTS_STAMP)
	$(BIN)/python manage.py makemessages --locale en --ignore '.venv/*' --ignore 'node_modules/*' \
		--ignore 'var/*' --ignore 'staticfiles/*' --ignore 'test-artifacts/*'
	$(BIN)/python manage.py compilemessages --locale en --ignore '.venv/*' --ignore 'node_modules/*'

clean:
	rm -rf var staticfiles .pytest_cache test-artifacts
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
