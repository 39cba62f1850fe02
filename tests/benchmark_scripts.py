"""The benchmark scripts (``benchmarks/*.py``) as modules, for the tests that run their code or render their
sections: ``benchmarks`` is no package, so a script is imported with its folder on ``sys.path`` for the import only."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str) -> ModuleType:
    """``benchmarks/NAME.py`` imported (with ``_common`` and whatever else it imports from its folder)."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))
