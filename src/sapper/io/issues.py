"""The issue report of an import: every feature repaired, rejected, skipped or in conflict, as CSV or JSON.

It is written for the person who fixes the source file: one row per feature, with its number in the file (1-based,
as GIS tools count features), its id, what happened to it and why. CSV columns: ``feature``, ``id``, ``outcome``,
``reason`` (UTF-8, text a spreadsheet would run as a formula prefixed with ``'``). JSON: one object with the
import's figures (``file``, ``kind``, ``imported``, ``repaired``, ``rejected``, …) and ``issues``, a list of objects
with the same four keys. The file is written next to its final name and renamed into place, so a reader never
sees half a report.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sapper.errors import Fault, ValidationError
from sapper.io.fields import FORMULA_START
from sapper.io.result import FeatureIssue
from sapper.messages import msg

Outcome = Literal["repaired", "rejected", "skipped", "conflict", "updated"]
REPORT_SUFFIXES = (".csv", ".json")
REPORT_COLUMNS = ("feature", "id", "outcome", "reason")


@dataclass(frozen=True, slots=True)
class ReportedIssue:
    """One line of the report: what happened to a feature (``outcome``) and the issue (number, id, reason)."""

    outcome: Outcome
    issue: FeatureIssue

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.issue.index, "id": self.issue.id, "outcome": self.outcome, "reason": self.issue.reason}


def check_report_path(path: str | Path, *, not_one_of: Sequence[str | Path] = ()) -> Path:
    """``path`` as a report target, refused before anything is imported: a ``.csv`` or ``.json`` name in an
    existing folder, and none of ``not_one_of`` (the file being imported, the store)."""
    p = Path(path)
    faults = []
    if p.suffix.lower() not in REPORT_SUFFIXES:
        faults.append(Fault("--report", msg("{name} must end in .csv or .json", name=p.name), "report"))
    if not p.parent.is_dir():
        faults.append(Fault("--report", msg("the folder {parent} does not exist", parent=p.parent), "report"))
    if p.is_dir():
        faults.append(Fault("--report", msg("{p} is a folder", p=p), "report"))
    if any(p.resolve() == Path(other).resolve() for other in not_one_of):
        faults.append(Fault("--report", msg("{p} is the file being imported or the store", p=p), "report"))
    ValidationError.raise_if("report", faults)  # not a message: "report" is also a reason people type
    return p


def _guard(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_START):
        return "'" + value
    return value


def write_report(path: str | Path, issues: Sequence[ReportedIssue], *, figures: Mapping[str, Any]) -> Path:
    """Write ``issues`` (in the order given) to ``path``, CSV or JSON by its suffix; ``figures`` head the JSON."""
    p = check_report_path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            if p.suffix.lower() == ".csv":
                writer = csv.writer(f)
                writer.writerow(REPORT_COLUMNS)
                for item in issues:
                    row = item.as_dict()
                    writer.writerow([_guard(row[c]) for c in REPORT_COLUMNS])
            else:
                doc = {**figures, "issues": [item.as_dict() for item in issues]}
                json.dump(doc, f, ensure_ascii=False, indent=1)
                f.write("\n")
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return p
