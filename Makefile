# sapper — the README's two commands live here: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= demo
TIME_LIMIT ?= 60

.PHONY: demo test lint bench bench-psplib bench-store clean install postgis

install: $(STAMP)

# The virtualenv at the repository root, with sapper installed editable and the dev tools.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,server]'
	$(BIN)/python -c "from sapper.plan.evolve import warm_up; warm_up()"  # compile the genetic search once (~15 s)
	touch $(STAMP)

# Build the kursk-border scenario, plan it, and write demo/sapper.gpkg, demo/plan.json, demo/report.html.
demo: $(STAMP)
	$(BIN)/sapper demo --out $(OUT) --time-limit $(TIME_LIMIT)

# Lint (ruff, mypy --strict, import-linter contracts), then the test suite (on SQLite and on PostGIS).
test: $(STAMP) lint postgis
	$(BIN)/python -m pytest -q

# PostgreSQL 15 + PostGIS 3 for the store tests on PostGIS (SAPPER_TEST_PG, default
# postgresql://postgres@127.0.0.1:5432/postgres): installed when missing (as root, with apt), with trust
# authentication on the loopback for the test user on a cluster it installed, and started when not running.
# Idempotent; without root or apt it says so in one line, and the PostGIS tests are skipped (failed under CI).
PG_HBA := /etc/postgresql/15/main/pg_hba.conf
postgis:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  if ! dpkg -s postgresql-15-postgis-3 >/dev/null 2>&1; then \
	    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15-postgis-3) && \
	    sed -i '1i host all postgres 127.0.0.1/32 trust\nlocal all postgres trust' $(PG_HBA) && \
	    (pg_ctlcluster --skip-systemctl-redirect 15 main reload 2>/dev/null || true); \
	  fi; \
	  pg_isready -q -h 127.0.0.1 || pg_ctlcluster --skip-systemctl-redirect 15 main start || \
	    echo "PostgreSQL 15 did not start: PostGIS tests may be skipped"; \
	else \
	  echo "not root or no apt-get: PostgreSQL/PostGIS not installed here, PostGIS tests may be skipped"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/plan_kursk_border.py

# sapper and PyJobShop side by side on PSPLIB J30, MM-J10 and J60 (about 10 minutes); writes docs/benchmarks.md.
bench-psplib: $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	$(BIN)/python benchmarks/psplib_compare.py --write docs/benchmarks.md

# Features by box from 50,000 hazard polygons on a GeoPackage and a PostGIS store (about 3 minutes); writes
# docs/benchmarks.md and benchmarks/results/store_bbox.json.
bench-store: $(STAMP) postgis
	$(BIN)/python benchmarks/store_bbox.py --write docs/benchmarks.md

clean:
	rm -rf $(VENV) demo build *.egg-info
