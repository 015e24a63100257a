# Two entry points: `make run` (the API with the embedded database and demo data) and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.maillage-installed
# Front-end packages of the web interface (htmx, Pico), pinned by api/web/package-lock.json, never committed.
WEB_ASSETS := api/web/node_modules/.package-lock.json

.PHONY: run test lint bench web-assets

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(WEB_ASSETS): api/web/package.json api/web/package-lock.json
	npm ci --prefix api/web --no-audit --no-fund --ignore-scripts
	touch $(WEB_ASSETS)

web-assets: $(WEB_ASSETS)

run: $(STAMP) $(WEB_ASSETS)
	$(VENV)/bin/maillage run

test: $(STAMP) $(WEB_ASSETS)
	$(VENV)/bin/maillage embedder install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) bench/foundation.py
