# sapper — the README's two commands live here: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= demo
TIME_LIMIT ?= 60

.PHONY: demo test lint bench bench-psplib clean install

install: $(STAMP)

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

# Lint (ruff, mypy --strict, import-linter contracts), then the test suite.
test: $(STAMP) lint
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
