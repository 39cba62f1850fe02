"""The benchmark figures in docs/benchmarks.md cannot drift from what was measured: each section a script writes
from a results file (``benchmarks/results/*.json``) must be exactly what that script renders from the file today."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.benchmark_scripts import load

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
DOC = ROOT / "docs" / "benchmarks.md"


@pytest.fixture()
def scripts() -> Callable[[str], ModuleType]:
    return load


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


def test_import_bulk_section_is_rendered_from_its_results(scripts: Callable[[str], ModuleType]) -> None:
    mod = scripts("import_bulk")
    assert _section(mod.BEGIN, mod.END) == mod.markdown(_results("import_bulk.json"))


def test_every_psplib_row_counts_instances_with_a_reference(scripts: Callable[[str], ModuleType]) -> None:
    """A row's *instances* is the number of instances it covers: never more than the set's results hold."""
    mod = scripts("psplib_compare")
    for key, res in _results("psplib_compare.json").items():
        summary = res["sapper"]["summary"]
        assert summary["count"] == len(res["sapper"]["instances"]) == len(res["pyjobshop"]["instances"]), key
        assert all(i["reference"] is not None for i in res["sapper"]["instances"]), key
        assert key in mod.SETS


def _fake_set(key: str, engines: tuple[str, ...], every: int = 1) -> dict[str, Any]:
    row = {"name": "j3010_1.mm", "makespan": 27, "reference": 26, "proven_optimal": False, "deviation_pct": 3.8462,
           "seconds": 1.0, "lower_bound": None, "status": "feasible", "false_proof": False, "impossible": False}
    summary = {"count": 1, "at_reference": 0, "proven_optimal": 0, "mean_deviation_pct": 3.8462,
               "max_deviation_pct": 3.8462, "mean_seconds": 1.0, "false_proofs": 0, "impossible": 0}
    res: dict[str, Any] = {"set": key, "pattern": "j30*_*.mm", "time_limit_s": 10.0, "workers": 2, "seed": 0,
                           "command": "python benchmarks/psplib_compare.py", "seconds": 60, "machine": "m",
                           "date": "2026-12-07", "versions": {"ortools": "9.15.6755", "pyjobshop": "0.0.9"}}
    if every > 1:
        res["every"] = every
    for engine in engines:
        res[engine] = {"summary": summary, "instances": [row]}
    return res


def test_psplib_section_renders_mm_j30_a_subset_and_the_plain_model(scripts: Callable[[str], ModuleType]) -> None:
    """The MM-J30 set and the plain CP-SAT engine get their rows; a subset run says it is one."""
    mod = scripts("psplib_compare")
    assert {"mm_j30", "j30-1s"} <= set(mod.SETS) and mod.SETS["j30-1s"][2:] == (1.0, True)
    text = mod.markdown([_fake_set("mm_j30", ("sapper", "pyjobshop"), every=10),
                         _fake_set("j30-1s", ("sapper", "pyjobshop", "plain"))])
    assert "| mm_j30 (`j30*_*.mm, every 10th`) | 1 | 10 s | sapper |" in text
    assert "| j30-1s (`j30*_*.mm`) | 1 | 10 s | plain |" in text
    assert "| j30-1s | 0 – 0 | 1.00 | 1.00 |" in text
    assert "| mm_j30 | j3010_1.mm | 26 | 27 | 27 |" in text


def test_psplib_targets_are_judged_from_the_rows(scripts: Callable[[str], ModuleType]) -> None:
    """The verdicts under the table follow the rows: MM-J30 is met only when sapper is level with PyJobShop on all
    three figures and has no false proof; a subset says so; a faster peer or one false proof makes it "not met"."""
    mod = scripts("psplib_compare")
    level = _fake_set("mm_j30", ("sapper", "pyjobshop"))
    assert mod.targets(level).endswith(", met")
    slower = _fake_set("mm_j30", ("sapper", "pyjobshop"), every=10)
    slower["pyjobshop"] = {**slower["pyjobshop"], "summary": {**slower["pyjobshop"]["summary"], "mean_seconds": 0.5}}
    verdict = mod.targets(slower)
    assert "**not met**" in verdict and "every 10th instance only: a subset" in verdict
    proof = _fake_set("mm_j30", ("sapper", "pyjobshop"))
    proof["sapper"] = {**proof["sapper"], "summary": {**proof["sapper"]["summary"], "false_proofs": 1}}
    assert "**not met**" in mod.targets(proof)
    ahead = _fake_set("j30-1s", ("sapper", "pyjobshop", "plain"))
    assert mod.targets(ahead).endswith(", met")
    behind = _fake_set("j30-1s", ("sapper", "pyjobshop", "plain"))
    behind["plain"] = {**behind["plain"], "summary": {**behind["plain"]["summary"], "at_reference": 1}}
    assert "**not met**" in mod.targets(behind)
    assert "Targets (the issues'), judged by the script" in mod.markdown([level])


def test_plain_cpsat_model_reaches_a_known_multi_mode_optimum(scripts: Callable[[str], ModuleType]) -> None:
    """The third engine is a working model: PSPLIB MM-J10 j1010_1 (optimum 17), proven."""
    mod = scripts("plain_cpsat")
    res = mod.solve_plain(ROOT / "tests" / "data" / "psplib" / "j1010_1.mm", time_limit_s=10, workers=1)
    assert res.makespan == 17 and res.proven_optimal


def test_plan_national_section_is_rendered_from_its_results(scripts: Callable[[str], ModuleType]) -> None:
    mod = scripts("plan_national")
    assert _section(mod.BEGIN, mod.END) == mod.section(_results("plan_national.json")), \
        "python benchmarks/plan_national.py --render-only --write docs/benchmarks.md"



# The README's figures that are not measurements: settings and the issues' targets, each with where it comes from.
# A measured figure is not typed into the README at all: docs/benchmarks.md has it, written by its script.
README_NOT_MEASURED = {
    "10 s": "SQLite's busy timeout, a setting (sapper.store)",
}
FIGURE = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s?(%|ms|s|×|MiB|GiB|min|features/s|req/s)(?!\w)")


def _stray_figures(text: str) -> list[str]:
    return [f"{m.group(1)} {m.group(2)}" for m in FIGURE.finditer(text)
            if f"{m.group(1)} {m.group(2)}" not in README_NOT_MEASURED]


def test_readme_holds_no_measured_figure() -> None:
    """A figure with a unit in the README is a setting or a target named above; what was measured is in
    docs/benchmarks.md, written by the script that measured it, so the README cannot hold a stale copy."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _stray_figures(readme) == [], "measured figures typed into the README (link docs/benchmarks.md instead)"


def test_readme_figure_check_catches_a_typed_figure() -> None:
    text = "the coordinated plan is 0.22 % worse, at 972.8 req/s, in 11 s, with a 10 s busy timeout"
    assert _stray_figures(text) == ["0.22 %", "972.8 req/s", "11 s"]
