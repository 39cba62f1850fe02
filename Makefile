# sapper — the README's two commands live here: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= demo
TIME_LIMIT ?= 60

.PHONY: demo test lint bench bench-psplib bench-store bench-api bench-import bench-reliability clean install postgis web chromium pdf catalogues

install: $(STAMP)

# The virtualenv at the repository root, with sapper installed editable and the dev tools.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,server,scale]'
	$(BIN)/python -c "from sapper.plan.evolve import warm_up; warm_up()"  # compile the genetic search once (~15 s)
	touch $(STAMP)

# Build the kursk-border scenario, plan it, and write demo/sapper.gpkg, demo/plan.json, demo/report.html.
demo: $(STAMP)
	$(BIN)/sapper demo --out $(OUT) --time-limit $(TIME_LIMIT)

# The map UI's vendored browser libraries and offline basemap (src/sapper/web/static): npm ci from web/package-lock.json,
# then web/build.mjs copies them in. The built files are committed (a clone needs no npm); run this after changing
# web/package.json. Without npm it keeps them as they are.
web:
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: keeping the committed build in src/sapper/web/static"; exit 0; }; \
	cd web && npm ci --ignore-scripts --no-audit --no-fund && node build.mjs

# Headless Chromium for the map UI's browser tests (Debian's package; needs root).
chromium:
	dpkg -s chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)

# The Debian libraries WeasyPrint draws PDFs with (Pango, HarfBuzz), and poppler-utils (pdftotext, pdftoppm) that the
# report tests read the PDFs with; installed when missing (needs root).
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils
pdf:
	dpkg -s $(PDF_DEBS) >/dev/null 2>&1 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(PDF_DEBS))

# The catalogues (src/sapper/locale/*/LC_MESSAGES/sapper.po: the reports and the command line): write the commands' help
# texts (src/sapper/cli/_helptexts.py, from the command tree), extract the marked messages (babel.cfg) and merge
# them into each language's .po (new ones untranslated: tests/report/test_catalogue.py fails until they are).
catalogues: $(STAMP)
	mkdir -p build
	PYTHONPATH=src $(BIN)/python -c "from sapper.cli._library import write_help_texts; \
	  write_help_texts('src/sapper/cli/_helptexts.py')"
	$(BIN)/pybabel extract -F babel.cfg -k n_:1,2 -k msg -k msg_n:1,2 -k tr -k tr_n:1,2 --no-location --sort-output -w 120 -o build/sapper.pot .
	for lang in en uk ru; do $(BIN)/pybabel update -i build/sapper.pot -d src/sapper/locale -D sapper -l $$lang \
	  --no-fuzzy-matching --ignore-obsolete -w 120; done

# Lint (ruff, mypy --strict, import-linter contracts), then the test suite (on SQLite and on PostGIS; the map UI in
# headless Chromium; the PDF reports through WeasyPrint and poppler) on TEST_WORKERS processes (pytest-xdist; `auto`
# is one per core, 0 runs it in this process). Each worker has its own PostGIS databases and temporary folders; the
# tests of a file that shares a browser or a built register go to one worker (xdist_group, tests/conftest.py).
TEST_WORKERS ?= 2
test: $(STAMP) lint postgis chromium pdf
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

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

# sapper and PyJobShop side by side on PSPLIB J30 (5 s and, beside a plain CP-SAT model, 1 s), MM-J10, MM-J30 and J60
# (about 40 minutes); writes docs/benchmarks.md.
bench-psplib: $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	$(BIN)/python benchmarks/psplib_compare.py --write docs/benchmarks.md

# Features by box from 50,000 hazard polygons on a GeoPackage and a PostGIS store (about 3 minutes); writes
# docs/benchmarks.md and benchmarks/results/store_bbox.json.
bench-store: $(STAMP) postgis
	$(BIN)/python benchmarks/store_bbox.py --write docs/benchmarks.md

# The web service's items path under 50 concurrent clients on GeoPackage and PostGIS, beside pygeoapi serving the same
# GeoPackage (about 6 minutes): pygeoapi from the bench extra, SpatiaLite for its GeoPackage provider (Debian's
# libsqlite3-mod-spatialite, as root with apt); writes docs/benchmarks.md and benchmarks/results/api_latency.json.
bench-api: $(STAMP) postgis
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,server,bench]'
	@dpkg -s libsqlite3-mod-spatialite >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libsqlite3-mod-spatialite); } || \
	  echo "libsqlite3-mod-spatialite is missing and cannot be installed here: pygeoapi will not start"
	$(BIN)/python benchmarks/api_latency.py --write docs/benchmarks.md

# Issue 17's bulk import: 100,000 clean hazard polygons (GeoPackage, fixed seed) imported in-process, beside pyogrio's
# raw read of the same file (about 1 minute on a quiet machine); writes docs/benchmarks.md and
# benchmarks/results/import_bulk.json.
bench-import: $(STAMP)
	$(BIN)/python benchmarks/import_bulk.py --write docs/benchmarks.md

# Issue 16's reliability figures (docs/reliability.md, benchmarks/results/reliability_*.json): 16 writers x 500 updates
# through the API on GeoPackage and PostGIS; kill -9 during a 10,000-feature import and a plan save (50 runs each);
# 1,000 acknowledged writes across immediate stops of a throwaway PostgreSQL cluster of its own (needs root). Long:
# the crash runs start a sapper process two or three times per run.
bench-reliability: $(STAMP) postgis
	$(BIN)/python benchmarks/reliability_concurrency.py --write docs/reliability.md
	$(BIN)/python benchmarks/reliability_crash.py --write docs/reliability.md
	$(BIN)/python benchmarks/reliability_crash.py --backend postgis --write docs/reliability.md
	$(BIN)/python benchmarks/fuzz_importers.py --write docs/reliability.md
	$(BIN)/python benchmarks/reliability_durability.py --write docs/reliability.md

clean:
	rm -rf $(VENV) demo build *.egg-info
