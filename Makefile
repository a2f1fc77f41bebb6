# The README's two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run intro test install lint check bench migrate demo clean lock

# Installs exactly what the lock files name, each file checked against its hash (pip-compile --generate-hashes).
$(STAMP): requirements.lock requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

# After changing requirements*.txt: pin every package with its hashes again (pip-tools in a throwaway venv).
# LOCK_CONSTRAINTS=file keeps the versions a tested environment already has (e.g. `.venv/bin/pip freeze`).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock && .venv-lock/bin/pip install --quiet pip-tools
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links $(if $(LOCK_CONSTRAINTS),-c $(LOCK_CONSTRAINTS)) -o requirements.lock requirements.txt
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links $(if $(LOCK_CONSTRAINTS),-c $(LOCK_CONSTRAINTS)) -o requirements-dev.lock requirements-dev.txt
	rm -rf .venv-lock

migrate: install
	@echo "[1/4] 建立或更新数据库表……"
	@DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput -v 0

# The demo accounts come last, after the sweep: under `make run` they are the last lines before runserver's own
# banner and address. The security log goes to var/log/security.log (settings: DJANGO_SECURITY_LOG_FILE).
demo: migrate
	@echo "[2/4] 载入莲湖区演示数据（9 个街道办事处、142 个社区及其小区、服务设施、经费和人员；约半分钟）……"
	@DJANGO_DEBUG=1 $(PY) manage.py load_demo
	@echo "[3/4] 按合规规则检查全部记录……"
	@DJANGO_DEBUG=1 $(PY) manage.py compliance_sweep
	@echo "[4/4] 创建演示账号（安全日志写入 var/log/security.log）："
	@DJANGO_DEBUG=1 $(PY) manage.py create_demo_users

# --skip-checks: migrate ran the system checks a moment ago; the accounts table stays right above the address.
run: intro demo
	@DJANGO_DEBUG=1 $(PY) manage.py runserver --skip-checks 127.0.0.1:$(PORT)

intro:
	@echo "make run：在 var/lianhu.sqlite3 建立数据库，载入演示数据，做一次合规检查，创建演示账号，然后启动开发服务器；"
	@echo "          服务器的地址在最后一行，用演示账号表中的账号登录，按 Ctrl+C 停止。"

# pytest-django reads the settings before tests/conftest.py runs, so the debug
# flag the suite needs (no SSL redirect, a development key) is set here.
# One pytest-xdist worker per core, each with its own test database, session demo and Redis database
# (tests/conftest.py); --dist loadscope keeps a module's tests on one worker, so a module's world is built once.
# TEST_WORKERS=0 runs everything in this one process (easier to debug with -x --pdb).
TEST_WORKERS ?= auto
test: install
	DJANGO_DEBUG=1 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

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
	# The 1.1 M-row 人员台账 as a background export job: rows/s and the worker's peak RSS
	# (EXPORT_BENCH_DATABASE_URL, default postgres:///lianhu_exports_bench; EXPORT_BENCH_ROWS=100000 quick).
	# Writes bench-results/export_jobs.md.
	$(PY) bench/export_jobs.py
	# Load test: gunicorn on 127.0.0.1, 20 users for 60 s (LOAD_DATABASE_URL, default postgres:///lianhu_load),
	# three runs in a row on the same database. Writes bench-results/load.md, load-2.md, load-3.md.
	$(PY) bench/load.py
	LOAD_REUSE=1 LOAD_RUN=2 $(PY) bench/load.py
	LOAD_REUSE=1 LOAD_RUN=3 $(PY) bench/load.py
	# Every goal of issue 17 in one table: bench-results/summary.md.
	$(PY) bench/summary.py

clean:
	rm -rf $(VENV) var/*.sqlite3 .pytest_cache .ruff_cache
