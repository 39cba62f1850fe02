"""The benchmark figures in docs/benchmarks.md cannot drift from what was measured: each section a script writes
from a results file (``benchmarks/results/*.json``) must be exactly what that script renders from the file today."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
DOC = ROOT / "docs" / "benchmarks.md"


@pytest.fixture()
def scripts() -> Iterator[Callable[[str], ModuleType]]:
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(BENCH))


def _section(begin: str, end: str) -> str:
    doc = DOC.read_text(encoding="utf-8")
    assert begin in doc and end in doc, f"docs/benchmarks.md has no {begin} section"
    return doc[doc.index(begin): doc.index(end) + len(end)]


def _results(name: str) -> Any:
    return json.loads((BENCH / "results" / name).read_text(encoding="utf-8"))


def test_psplib_section_is_rendered_from_its_results(scripts: Callable[[str], ModuleType]) -> None:
    mod = scripts("psplib_compare")
    stored = _results("psplib_compare.json")
    expected = mod.markdown([stored[k] for k in mod.SETS if k in stored])
    assert _section(mod.BEGIN, mod.END) == expected, \
        "docs/benchmarks.md's PSPLIB section differs from benchmarks/results/psplib_compare.json: " \
        "python benchmarks/psplib_compare.py --render-only --write docs/benchmarks.md"


def test_store_bbox_section_is_rendered_from_its_results(scripts: Callable[[str], ModuleType]) -> None:
    mod = scripts("store_bbox")
    assert _section(mod.BEGIN, mod.END) == mod.markdown(_results("store_bbox.json"))


def test_api_latency_section_is_rendered_from_its_results(scripts: Callable[[str], ModuleType]) -> None:
    mod = scripts("api_latency")
    assert _section(mod.BEGIN, mod.END) == mod.markdown(_results("api_latency.json"))


def test_every_psplib_row_counts_instances_with_a_reference(scripts: Callable[[str], ModuleType]) -> None:
    """A row's *instances* is the number of instances it covers: never more than the set's results hold."""
    mod = scripts("psplib_compare")
    for key, res in _results("psplib_compare.json").items():
        summary = res["sapper"]["summary"]
        assert summary["count"] == len(res["sapper"]["instances"]) == len(res["pyjobshop"]["instances"]), key
        assert all(i["reference"] is not None for i in res["sapper"]["instances"]), key
        assert key in mod.SETS
