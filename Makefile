# Two commands on a fresh machine:
#   make run   - virtualenv, install, migrate the embedded SQLite database, load the demo county, serve
#   make test  - the whole test suite (PostgreSQL + a real Celery worker when DATABASE_URL / REDIS_URL are set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate seed serve lint bench clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed

$(BIN)/.bench-installed: requirements-bench.txt $(BIN)/.installed
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

# make run: development site on SQLite, Celery tasks in-process (no REDIS_URL).
run: export DJANGO_DEBUG = 1
run: export DATABASE_URL =
run: export REDIS_URL =
run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "打开 http://$(HOST):$(PORT)/ 并用上面的演示账号登录"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: export DJANGO_TESTING = 1
test: install
	mkdir -p var
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_TESTING=1 $(BIN)/python manage.py makemigrations --check --dry-run

# make bench: PostgreSQL (DATABASE_URL) and, for the jobs on real workers, Redis (REDIS_URL). bench_pages builds
# its county in <database>_pages once (about 2 minutes) and keeps it for the next run; BENCH_PAGES_DB names another
# database. The job benchmarks build scratch databases <database>_jobs_<size> (CREATEDB); the first keeps them for
# the second, which drops them. SIZES=1000000 (one size) or WORKERS=1 for a shorter run.
bench: install $(BIN)/.bench-installed
	$(BIN)/python manage.py bench_pages $${BENCH_PAGES_DB:+--database $$BENCH_PAGES_DB}
	$(BIN)/python manage.py bench_roster --rows $${ROWS:-100000}
	$(BIN)/python manage.py bench_calculator
	$(BIN)/python manage.py bench_crosscheck
	$(BIN)/python manage.py bench_crosscheck --settlements $${SIZES:-1000000 3000000} --workers $${WORKERS:-1 2} --keep-db
	$(BIN)/python manage.py bench_secondary
	$(BIN)/python manage.py bench_secondary --settlements $${SIZES:-1000000 3000000} --workers $${WORKERS:-1 2}
	$(BIN)/python manage.py bench_payouts
	$(BIN)/python manage.py bench_dashboard
	$(BIN)/python manage.py bench_subsidy
	$(BIN)/python manage.py bench_monitoring

clean:
	rm -rf $(VENV) var
