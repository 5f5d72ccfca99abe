# The two commands: `make run` and `make test`. Everything else is a helper of those two.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
VENDOR := static/vendor

.PHONY: run test lint bench install install-dev assets migrate clean

run: install assets migrate
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/honcho --procfile Procfile.dev start

test: install-dev assets
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	sh scripts/ensure_chromium.sh
	sh scripts/ensure_dovecot.sh
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install-dev assets
	$(BIN)/python bench/run.py $(ONLY)

migrate: install
	$(BIN)/python manage.py migrate --noinput

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: $(VENV)/bin/activate requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# Front-end assets come from the npm registry at set-up and are served by Django (no CDN).
$(VENDOR)/.stamp: package.json package-lock.json scripts/copy_assets.sh
	npm ci --ignore-scripts --no-audit --no-fund --loglevel error
	sh scripts/copy_assets.sh
	touch $@

assets: $(VENDOR)/.stamp

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
