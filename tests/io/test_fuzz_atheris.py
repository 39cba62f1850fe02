"""Issue 16, item 5: coverage-guided fuzzing of the importers with atheris, a few hundred inputs per target (the
long run is ``benchmarks/fuzz_importers.py``, whose code this runs). Each target reads the input with a real
reader; anything but a one-line sapper error is a finding and fails the test. The three findings the fuzzer made
when it was first run are kept as plain regression tests in ``tests/io/test_bad_input.py``."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.benchmark_scripts import load

pytest.importorskip("atheris", reason="atheris (a dev dependency on Linux x86_64, CPython < 3.13) is not installed")



@pytest.fixture(scope="module")
def harness() -> ModuleType:
    return load("fuzz_importers")


@pytest.mark.parametrize("target", ["geojson", "csv", "odk-zip", "shp-zip", "imsma-csv", "imsma-xlsx"])
def test_the_fuzzer_finds_nothing_in_a_few_hundred_inputs(harness: ModuleType, target: str) -> None:
    outcome = harness.fuzz(target, seconds=60, seed=16, runs=250)
    assert outcome.findings == 0, outcome.finding
    assert outcome.runs >= 250  # it really ran them (and the seed, in the corpus, was read)
    assert outcome.coverage > 100  # instrumented: libFuzzer saw sapper's branches


def test_a_finding_fails_the_run(harness: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness can fail: a reader that raises something other than a sapper error is reported as a finding."""
    monkeypatch.setenv("SAPPER_FUZZ_SELF_TEST", "1")
    outcome = harness.fuzz("geojson", seconds=60, seed=16, runs=50)
    assert outcome.findings >= 1
    assert "self-test" in outcome.finding or "exited" in outcome.finding or "Error" in outcome.finding
