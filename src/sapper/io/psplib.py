"""PSPLIB instances and their reference values, as sapper planning problems.

Instances (``.sm`` single-mode, ``.mm`` multi-mode with budgets) are parsed by the ``psplib`` package and turned into a
:class:`sapper.plan.Problem` with the makespan objective. Reference values come from what PSPLIB and the Ghent tables
ship beside the instances:

- a best-known CSV: ``;``-separated, decimal comma, header row with ``Ref1`` (the file name), ``LB value``,
  ``UB value``, ``OPT value`` and ``CPM`` (a value of 0 or an empty cell means "not known");
- PSPLIB solution tables ``<set>opt.<ext>`` (proven optima), ``<set>hrs.<ext>`` (best heuristic makespans) and
  ``<set>lb.<ext>`` (upper and lower bounds), one line per ``parameter instance makespan`` (lb: ``parameter instance
  upper lower``); the instance file is
  ``<set><parameter>_<instance>.<ext>``. A makespan of 16384 marks an instance without a feasible schedule.

Citation: R. Kolisch and A. Sprecher, "PSPLIB — A project scheduling problem library", European Journal of
Operational Research 96(1):205–216, 1997.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import psplib

from sapper.errors import ImportFileError
from sapper.messages import msg
from sapper.plan import Mode, Objective, Precedence, Problem, Resource, Task

#: PSPLIB's marker, in solution tables, of an instance that has no feasible schedule.
INFEASIBLE_MARK = 16384


@dataclass(frozen=True, slots=True)
class Reference:
    """What is known of an instance's optimal makespan: bounds, and the optimum when proven."""

    lower: int | None = None
    upper: int | None = None
    optimum: int | None = None
    critical_path: int | None = None

    @property
    def best_known(self) -> int | None:
        """The value to compare with: the optimum when proven, else the best known upper bound."""
        return self.optimum if self.optimum is not None else self.upper

    def merge(self, other: Reference) -> Reference:
        lower = _pick(self.lower, other.lower, highest=True)
        upper = _pick(self.upper, other.upper, highest=False)
        optimum = self.optimum if self.optimum is not None else other.optimum
        if optimum is None and lower is not None and lower == upper:
            optimum = lower
        return Reference(lower, upper, optimum, self.critical_path or other.critical_path)


def _pick(a: int | None, b: int | None, *, highest: bool) -> int | None:
    """The higher (or lower) of two optional values; None only when both are."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b) if highest else min(a, b)


def read_instance(path: str | Path) -> Problem:
    """The PSPLIB instance at ``path`` as a makespan problem (dummy source and sink jobs kept, duration 0)."""
    path = Path(path)
    try:
        inst = psplib.parse(path, instance_format="psplib")
    except (OSError, ValueError, IndexError) as exc:
        raise ImportFileError(msg("{path}: not a readable PSPLIB instance ({reason})",
                                  path=path.name, reason=exc)) from exc
    resources = tuple(
        Resource(f"{'R' if r.renewable else 'N'}{k + 1}", int(r.capacity), renewable=bool(r.renewable))
        for k, r in enumerate(inst.resources)
    )
    tasks: list[Task] = []
    precedences: list[Precedence] = []
    horizon = 0
    for j, act in enumerate(inst.activities):
        # Multi-mode files hold modes that ask for more of a resource than it has: they can never run, so they are
        # left out (the mode's name keeps its number in the file). A job left with no mode is an error.
        modes = tuple(
            Mode(int(m.duration), tuple((r, int(u)) for r, u in enumerate(m.demands) if u), f"mode {k + 1}")
            for k, m in enumerate(act.modes)
            if all(u <= resources[r].capacity for r, u in enumerate(m.demands))
        )
        if not modes:
            raise ImportFileError(msg("{path}: job {job} has no mode within the resource capacities",
                                      path=path.name, job=j + 1))
        horizon += max(m.duration for m in modes)
        tasks.append(Task(f"job {j + 1}", modes))
        precedences.extend(Precedence(j, int(s)) for s in act.successors)
    return Problem(resources, tuple(tasks), tuple(precedences), max(1, horizon), Objective.MAKESPAN)


def read_references(directory: str | Path) -> dict[str, Reference]:
    """Reference values by instance file name, merged from every reference file found in ``directory``."""
    directory = Path(directory)
    refs: dict[str, Reference] = {}

    def add(name: str, ref: Reference) -> None:
        refs[name] = refs[name].merge(ref) if name in refs else ref

    for path in sorted(directory.iterdir()):
        if path.suffix.lower() == ".csv":
            for name, ref in _read_csv(path).items():
                add(name, ref)
        else:
            table = _TABLE.match(path.name)
            if table:
                for name, ref in _read_table(path, table["set"], table["kind"], table["ext"]).items():
                    add(name, ref)
    return refs


_TABLE = re.compile(r"^(?P<set>[a-z]+\d+)(?P<kind>opt|hrs|lb)\.(?P<ext>sm|mm)$", re.IGNORECASE)
_ROW = re.compile(r"^\s*(\d+)\s*,?\s+(\d+)\s*,?\s+(\d+)\b(?:\s*,?\s+(\d+)\b)?")


def _read_table(path: Path, prefix: str, kind: str, ext: str) -> dict[str, Reference]:
    """A PSPLIB solution table: ``parameter instance makespan`` rows after the header."""
    out: dict[str, Reference] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        m = _ROW.match(line)
        if not m:
            continue
        par, inst, value = (int(x) for x in m.groups()[:3])
        if value >= INFEASIBLE_MARK:
            continue
        name = f"{prefix.lower()}{par}_{inst}.{ext.lower()}"
        kind = kind.lower()
        if kind == "opt":
            out[name] = Reference(value, value, value)
        elif kind == "hrs":
            out[name] = Reference(upper=value)
        elif m[4] is not None:  # lb tables: upper bound, then lower bound
            out[name] = Reference(lower=int(m[4]), upper=value)
    return out


def _read_csv(path: Path) -> dict[str, Reference]:
    """A best-known table: ``;``-separated with a header row holding ``Ref1`` and the value columns."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # the Ghent tables are partly Windows-1252 (en dashes in the notes)
        text = raw.decode("cp1252", errors="replace")
    lines = text.splitlines()
    header_at = next((i for i, line in enumerate(lines) if "Ref1" in line.split(";")), None)
    if header_at is None:
        raise ImportFileError(msg("{path}: no header row with a Ref1 column", path=path.name))
    reader = csv.DictReader(lines[header_at:], delimiter=";")
    out: dict[str, Reference] = {}
    for row in reader:
        name = (row.get("Ref1") or "").strip()
        if not name:
            continue
        lower, upper, opt, cpm = (_number(row.get(c)) for c in ("LB value", "UB value", "OPT value", "CPM"))
        out[name] = Reference(lower, upper, opt, cpm).merge(Reference())
    return out


def _number(cell: str | None) -> int | None:
    """A table cell as an integer makespan; 0, empty or non-numeric means unknown."""
    if cell is None:
        return None
    text = cell.strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return round(value) if value > 0 else None
