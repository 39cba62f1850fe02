# sapper — the README's two commands live here: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= demo
TIME_LIMIT ?= 60

.PHONY: demo test lint bench bench-psplib clean install web chromium

install: $(STAMP) web

# The virtualenv at the repository root, with sapper installed editable and the dev tools.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -c "from sapper.plan.evolve import warm_up; warm_up()"  # compile the genetic search once (~15 s)
	touch $(STAMP)

# Build the kursk-border scenario, plan it, and write demo/sapper.gpkg, demo/plan.json, demo/report.html.
demo: $(STAMP)
	$(BIN)/sapper demo --out $(OUT) --time-limit $(TIME_LIMIT)

# The map UI's vendored browser libraries and offline basemap (src/sapper/web/static): npm ci from web/package-lock.json,
# then web/build.mjs copies them in. The built files are committed, so without npm this keeps them as they are.
web:
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: keeping the committed build in src/sapper/web/static"; exit 0; }; \
	cd web && npm ci --ignore-scripts --no-audit --no-fund && node build.mjs

# Headless Chromium for the map UI's browser tests (Debian's package; needs root).
chromium:
	dpkg -s chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)

# Lint (ruff, mypy --strict, import-linter contracts), then the test suite.
test: $(STAMP) lint chromium
	$(BIN)/python -m pytest -q

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

clean:
	rm -rf $(VENV) demo build *.egg-info
