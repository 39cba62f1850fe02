"""The figures of docs/reliability.md cannot drift from what was measured: each section a reliability benchmark
writes (concurrency, crash atomicity, PostgreSQL durability, fuzzing) must be exactly what that script renders today
from its results file (``benchmarks/results/*.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.benchmark_scripts import load

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
DOC = ROOT / "docs" / "reliability.md"


@pytest.fixture(params=["reliability_concurrency", "reliability_crash", "reliability_durability", "fuzz_importers"])
def script(request: pytest.FixtureRequest) -> ModuleType:
    return load(request.param)


def test_section_is_rendered_from_its_results(script: ModuleType) -> None:
    """The section between the script's markers is its markdown() of its results file, and the run passed."""
    doc = DOC.read_text(encoding="utf-8")
    assert script.BEGIN in doc and script.END in doc, f"docs/reliability.md has no {script.BEGIN} section"
    section = doc[doc.index(script.BEGIN) : doc.index(script.END) + len(script.END)]
    stored = json.loads(script.RESULTS.read_text(encoding="utf-8"))
    assert section == script.markdown(stored), (
        f"docs/reliability.md differs from {script.RESULTS.name}: python benchmarks/{script.__name__}.py "
        "--render-only --write docs/reliability.md"
    )
