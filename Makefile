# The README's two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint check bench migrate demo clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput

demo: migrate
	DJANGO_DEBUG=1 $(PY) manage.py load_demo
	DJANGO_DEBUG=1 $(PY) manage.py create_demo_users
	DJANGO_DEBUG=1 $(PY) manage.py compliance_sweep

run: demo
	DJANGO_DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

# pytest-django reads the settings before tests/conftest.py runs, so the debug
# flag the suite needs (no SSL redirect, a development key) is set here.
test: install
	DJANGO_DEBUG=1 $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DJANGO_DEBUG=1 $(PY) -m mypy .

check: lint test

# National-scale benchmark on PostgreSQL (drops and rebuilds DATABASE_URL, default
# postgres:///lianhu_bench; BENCH_SCALE=0.1 for a quick run). Writes bench-results/latest.md.
bench: install
	$(PY) bench/run.py
	# Workbook import and export (SHEETS_DATABASE_URL, default postgres:///lianhu_sheets_bench; SHEETS_SCALE=0.1 quick).
	# Writes bench-results/sheets.md.
	DATABASE_URL=$${SHEETS_DATABASE_URL:-postgres:///lianhu_sheets_bench} $(PY) bench/sheets_bench.py
	# Load test: gunicorn on 127.0.0.1, 20 users for 60 s (LOAD_DATABASE_URL, default postgres:///lianhu_load).
	# Writes bench-results/load.md.
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) var/*.sqlite3 .pytest_cache .ruff_cache
