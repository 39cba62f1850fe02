"""What-ifs side by side: the store's latest plan, then each variant of it re-planned and forecast the same way.

A variant changes the workforce (``deminers``/``builders``: total people, every method's or trade's teams scaled in
proportion and rounded to whole teams, at least one where there was one; ``<method>_teams``/``<trade>_brigades``:
absolute or ``+N``/``-N``), winter work, the start date, or the money per calendar year (``demining_budget``,
``reconstruction_budget``: an amount such as ``25m``, or ``+20%``/``-10%`` of the latest plan's budget, which must
then have one; the variant is planned under the budgets as ``sapper plan --budget-per-year`` plans, at sapper's
default prices, and a variant without budget keys keeps the latest plan's budgets). Added teams copy an existing team
of their method (its organisation, size, base and productivity), taken in turn; removed ones are the last by id.

A variant never touches the store: it is planned and forecast through a read-only view of the store
(:class:`_VariantView`) that shows the variant's workforce and start date and keeps the variant's plan in memory;
any write through it raises. Each variant is planned as the latest plan was (its engine, workers, seed, lot size,
weekdays, stand-downs; ``time_limit_s`` if given) and forecast by ``services.forecast.forecast_plan`` with the same
runs and seed, learning from the same reported progress.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sapper.domain.calendar import WINTER_STAND_DOWN, ProgrammeCalendar
from sapper.domain.pricing import Family, PricingProfile
from sapper.domain.resources import BuilderBrigade, DeminerTeam, Method, Trade
from sapper.errors import Fault, NotFoundError, PlanError, SapperError, StoreError, ValidationError
from sapper.jsontypes import JsonObject
from sapper.messages import msg, msg_n
from sapper.prioritise import score_asset
from sapper.scenario.compile import CompileParams
from sapper.services.budgets import AnnualBudgets, parse_amount
from sapper.services.forecast import DatePercentiles, FanPoint, Forecast, forecast_plan
from sapper.services.planning import PlanSettings, plan_store
from sapper.services.replan import ReplanSettings, replan_store
from sapper.store import Store
from sapper.store.records import PlannedTask, PlanParams, PlanRun, SavedWhatIf, WhatIfAsset, WhatIfColumn
from sapper.store.store import UnitOfWork

#: The name of the first column, the store's own latest plan (no variant may take it).
CURRENT = "current"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_COUNT = re.compile(r"^([+-]?)(\d+)$")
_PERCENT = re.compile(r"^([+-]\d+(?:\.\d+)?)%$")
_TRUE = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass(frozen=True, slots=True)
class Count:
    """A number of people or units: absolute, or relative to the current one (``+N``, ``-N``)."""

    value: int
    relative: bool = False

    def of(self, current: int) -> int:
        return current + self.value if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value:+d}" if self.relative else str(self.value)


@dataclass(frozen=True)
class Variant:
    """One what-if, parsed: what it changes (None / empty: as in the latest plan)."""

    name: str
    deminers: Count | None = None
    builders: Count | None = None
    teams: tuple[tuple[Method, Count], ...] = ()
    brigades: tuple[tuple[Trade, Count], ...] = ()
    winter_work: bool | None = None
    start_date: dt.date | None = None
    text: str = ""
    #: Money per calendar year: (family, amount or percent change, whether it is a percent change of the latest plan's).
    budgets: tuple[tuple[Family, float, bool], ...] = ()


def variant_keys() -> tuple[str, ...]:
    """Every key a variant may set."""
    return ("deminers", "builders", *(f"{m.value}_teams" for m in Method), *(f"{t.value}_brigades" for t in Trade),
            "winter_work", "start_date", *(f"{f.value}_budget" for f in Family))


def parse_variant(text: str) -> Variant:
    """``NAME:KEY=VALUE[,KEY=VALUE...]`` as a :class:`Variant`; ValidationError naming the variant and key."""
    name, sep, body = text.partition(":")
    name = name.strip()
    record = msg("variant {name}", name=name) if name else msg("variant {name}", name=repr(text))
    if not sep or not _NAME.match(name):
        raise ValidationError(record, [Fault(record, msg("{value} is not NAME:KEY=VALUE[,KEY=VALUE...] (a name of "
                                                         "letters, digits, '_', '-' or '.')", value=repr(text)))])
    if name == CURRENT:
        raise ValidationError(record, [Fault(record, msg("{name} names the latest plan's column: pick another name",
                                                         name=repr(CURRENT)))])
    faults: list[Fault] = []
    values: dict[str, object] = {}
    teams: list[tuple[Method, Count]] = []
    brigades: list[tuple[Trade, Count]] = []
    methods = {f"{m.value}_teams": m for m in Method}
    trades = {f"{t.value}_brigades": t for t in Trade}
    money = {f"{f.value}_budget": f for f in Family}
    budgets: list[tuple[Family, float, bool]] = []
    pairs = [p for p in body.split(",") if p.strip()]  # none: a control, re-planned the way variants are
    seen: set[str] = set()
    for pair in pairs:
        key, eq, raw = (s.strip() for s in pair.partition("="))
        if not eq or not raw:
            faults.append(Fault(record, msg("{value} is not KEY=VALUE", value=repr(pair.strip())), key or None))
            continue
        if key in seen:
            faults.append(Fault(record, msg("given twice"), key))
            continue
        seen.add(key)
        if key in ("deminers", "builders") or key in methods or key in trades:
            m = _COUNT.match(raw)
            if m is None:
                faults.append(Fault(record, msg("{raw} is not a whole number (absolute, or +N / -N)", raw=repr(raw)),
                                    key))
                continue
            count = Count(int(m[2]) * (-1 if m[1] == "-" else 1), relative=bool(m[1]))
            if key in methods:
                teams.append((methods[key], count))
            elif key in trades:
                brigades.append((trades[key], count))
            else:
                values[key] = count
        elif key == "winter_work":
            if raw.lower() not in _TRUE:
                faults.append(Fault(record, msg("{raw} is not true or false", raw=repr(raw)), key))
            else:
                values[key] = _TRUE[raw.lower()]
        elif key == "start_date":
            try:
                values[key] = dt.date.fromisoformat(raw)
            except ValueError:
                faults.append(Fault(record, msg("{raw} is not a date YYYY-MM-DD", raw=repr(raw)), key))
        elif key in money:
            pct = _PERCENT.match(raw)
            amount = parse_amount(raw) if pct is None else float(pct[1])
            if amount is None or (pct is None and not amount > 0) or (pct is not None and amount <= -100):
                faults.append(Fault(record, f"{raw!r} is not a positive amount (e.g. 25m, 750k) nor a change such as "
                                    "+20% or -10%", key))
            else:
                budgets.append((money[key], amount, pct is not None))
        else:
            faults.append(Fault(record, msg("unknown key {key} (known: {known})", key=repr(key),
                                            known=', '.join(variant_keys())), key))
    ValidationError.raise_if(record, faults)
    deminers, builders = values.get("deminers"), values.get("builders")
    winter, start = values.get("winter_work"), values.get("start_date")
    return Variant(name, deminers if isinstance(deminers, Count) else None,
                   builders if isinstance(builders, Count) else None, tuple(teams), tuple(brigades),
                   winter if isinstance(winter, bool) else None, start if isinstance(start, dt.date) else None,
                   text=body.strip(), budgets=tuple(budgets))


# ------------------------------------------------------------------------------------------------------------------
# The variant's workforce
# ------------------------------------------------------------------------------------------------------------------

U = TypeVar("U", DeminerTeam, BuilderBrigade)


def _resize(units: Sequence[U], n: int) -> list[U]:
    """The first ``n`` of ``units`` (by id), or all of them and copies of them in turn."""
    ordered = sorted(units, key=lambda u: u.id)
    if n <= len(ordered):
        return ordered[:n]
    return ordered + [dataclasses.replace(ordered[k % len(ordered)], id=f"{ordered[k % len(ordered)].id}+{k + 1}",
                                          synthetic=True) for k in range(n - len(ordered))]


def _apply(units: Sequence[U], group: Callable[[U], str], total: Count | None,
           counts: Sequence[tuple[str, Count]], record: str, what: str) -> list[U]:
    """``units`` scaled to ``total`` people (in proportion per group, whole units, at least one where there was one),
    then each group of ``counts`` set to its count."""
    faults: list[Fault] = []
    by_group: dict[str, list[U]] = {}
    for u in units:
        by_group.setdefault(group(u), []).append(u)
    if total is not None:
        people = sum(u.size for u in units)
        target = total.of(people)
        key = "deminers" if what == "team" else "builders"
        if people == 0:
            faults.append(Fault(record, msg("the register has no teams to scale") if what == "team" else
                          msg("the register has no brigades to scale"), key))
        elif target < 1:
            faults.append(Fault(record, msg("gives {target} people: at least 1 is needed", target=target), key))
        else:
            by_group = {g: _resize(us, max(1, round(len(us) * target / people))) for g, us in by_group.items()}
    for g, count in counts:
        key = f"{g}_{what}s" if what == "team" else f"{g}_brigades"
        have = by_group.get(g, [])
        n = count.of(len(have))
        if n < 0:
            faults.append(Fault(record, msg("gives {n} teams ({count} now)", n=n, count=len(have)) if what == "team"
                                else msg("gives {n} brigades ({count} now)", n=n, count=len(have)), key))
        elif n > 0 and not have:
            faults.append(Fault(record, msg("the register has no {group} team to copy", group=g) if what == "team"
                                else msg("the register has no {group} brigade to copy", group=g), key))
        else:
            by_group[g] = _resize(have, n)
    ValidationError.raise_if(record, faults)
    return [u for g in sorted(by_group) for u in by_group[g]]


@dataclass(frozen=True, slots=True)
class Workforce:
    """People and units per method and trade (what a variant's scaling came to, after rounding to whole units)."""

    deminers: int
    builders: int
    teams: tuple[tuple[str, int], ...]
    brigades: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, teams: Sequence[DeminerTeam], brigades: Sequence[BuilderBrigade]) -> Workforce:
        t = Counter(x.method.value for x in teams)
        b = Counter(x.trade.value for x in brigades)
        return cls(sum(x.size for x in teams), sum(x.size for x in brigades),
                   tuple((m.value, t[m.value]) for m in Method if t[m.value]),
                   tuple((tr.value, b[tr.value]) for tr in Trade if b[tr.value]))

    def describe(self) -> str:
        return (f"{self.deminers} deminers (" + ", ".join(f"{n} {m}" for m, n in self.teams) + f" teams), "
                f"{self.builders} builders (" + ", ".join(f"{n} {t}" for t, n in self.brigades) + " brigades)")


class _VariantView(Store):
    """The source store as a variant sees it: the variant's teams, brigades, start date and winter work (the
    programme's calendar with its stand-downs lifted or the default winter one), and its plan (kept in memory; before
    it is made, ``previous``: the plan a re-plan continues); everything else read from the source. It never writes: a
    write raises StoreError."""

    def __init__(self, source: Store, *, teams: Sequence[DeminerTeam], brigades: Sequence[BuilderBrigade],
                 start: dt.date, previous: PlanRun | None = None, winter_work: bool | None = None) -> None:
        super().__init__(source._target, source._engine)  # the source's open engine, shared read-only
        self._teams = list(teams)
        self._brigades = list(brigades)
        self._start = start
        self._plan: PlanRun | None = previous  # until the variant's own plan is saved: the plan a re-plan continues
        self._winter_work = winter_work

    def calendar(self) -> ProgrammeCalendar:
        cal = super().calendar()
        if self._winter_work is True:
            return dataclasses.replace(cal, deminers_stand_down=None, builders_stand_down=None)
        if self._winter_work is False:
            return dataclasses.replace(cal, deminers_stand_down=WINTER_STAND_DOWN)
        return cal

    def close(self) -> None:
        """Nothing to close: the engine is the source's."""

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        raise StoreError("a what-if never writes to the store")
        yield  # pragma: no cover - a generator, for the context manager

    def save_plan(self, run: PlanRun) -> int:
        self._plan = dataclasses.replace(run, id=None)
        return 0

    def latest_plan(self) -> PlanRun | None:
        return self._plan

    def latest_plan_tasks(self, *, hazard_id: str | None = None, asset_id: str | None = None) -> list[PlannedTask]:
        tasks = self._plan.tasks if self._plan is not None else ()
        return sorted((t for t in tasks if (hazard_id is None or t.hazard_id == hazard_id)
                       and (asset_id is None or t.asset_id == asset_id)), key=lambda t: (t.start_date, t.task_id))

    def teams(self) -> list[DeminerTeam]:
        return list(self._teams)

    def brigades(self) -> list[BuilderBrigade]:
        return list(self._brigades)

    def meta(self) -> dict[str, str]:
        return {**super().meta(), "start_date": self._start.isoformat()}


# ------------------------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CriticalAssetDates:
    """A critical asset's planned restoration and its forecast P50 and P80 in one column."""

    asset_id: str
    asset_type: str
    score: float
    planned: dt.date | None
    p50: dt.date | None
    p80: dt.date | None


@dataclass(frozen=True)
class Column:
    """One column of the comparison: the latest plan (``name`` ``current``) or a variant, re-planned and forecast.

    ``released_km2``: P10, P50, P90 of the hazard area released by the comparison's date, read off the forecast's
    burn-down fan (interpolated linearly between its points). ``plan_seconds``: the re-plan's time (0 for the
    latest plan, which is not re-planned); ``forecast_seconds``: the Monte Carlo's own time.
    """

    name: str
    changes: str
    workforce: Workforce
    winter_work: bool
    start_date: dt.date
    plan_status: str
    objective: float | None
    planned_finish: dt.date | None
    finish: DatePercentiles
    released_km2: tuple[float, float, float]
    critical: tuple[CriticalAssetDates, ...]
    plan_seconds: float
    forecast_seconds: float
    beyond_horizon: int


@dataclass(frozen=True)
class WhatIf:
    """The latest plan and each variant, side by side, forecast with the same ``runs`` and ``seed``."""

    by: dt.date
    runs: int
    seed: int
    critical_rule: str
    hazard_area_km2: float
    columns: tuple[Column, ...]
    #: The latest plan the comparison starts from.
    plan_id: int | None = None


def _released_by(fan: Sequence[FanPoint], day: dt.date) -> tuple[float, float, float]:
    """P10, P50, P90 of released km² on ``day``, interpolated between the fan's points (0 before the first)."""
    if not fan or day < fan[0].date:
        return (0.0, 0.0, 0.0)
    for a, b in itertools.pairwise(fan):
        if a.date <= day <= b.date:
            span = (b.date - a.date).days
            f = (day - a.date).days / span if span else 1.0
            return tuple(round(x + f * (y - x), 3) for x, y in  # type: ignore[return-value]
                         zip(a.released_km2, b.released_km2, strict=True))
    return fan[-1].released_km2


def _column(name: str, changes: str, run: PlanRun, forecast: Forecast, workforce: Workforce,
            critical: Sequence[tuple[str, str, float]], by: dt.date, plan_seconds: float) -> Column:
    planned = {t.asset_id: t.end_date for t in run.tasks if t.kind == "restored" and t.asset_id}
    restored = {a.asset_id: a.restoration for a in forecast.assets}
    start = run.summary.start_date if run.summary is not None else run.created_at.date()
    return Column(
        name, changes, workforce, run.params.demining_stand_down is None, start, run.status, run.objective,
        run.finish_date, forecast.overall, _released_by(forecast.fan, by),
        tuple(CriticalAssetDates(aid, kind, score, planned.get(aid),
                                 restored[aid].p50 if aid in restored else None,
                                 restored[aid].p80 if aid in restored else None) for aid, kind, score in critical),
        round(plan_seconds, 2), forecast.seconds, forecast.beyond_horizon)


P = TypeVar("P", CompileParams, PlanParams)


def _winter(params: P, variant: Variant) -> P:
    """``params`` with the variant's winter work: no stand-down at all, or demining's default one."""
    if variant.winter_work is True:
        return dataclasses.replace(params, demining_stand_down=None, building_stand_down=None)
    if variant.winter_work is False:
        return dataclasses.replace(params, demining_stand_down=WINTER_STAND_DOWN)
    return params


def variant_budgets(run: PlanRun, variant: Variant) -> AnnualBudgets | None:
    """The money per calendar year ``variant`` plans with: the latest plan's budgets (its summary's details), changed
    by the variant's budget keys; None when neither has any. ValidationError naming the variant and key."""
    details = run.summary.details if run.summary is not None else {}
    current: dict[Family, float | None] = {}
    kept = {Family.DEMINING: run.params.budget_demining, Family.RECONSTRUCTION: run.params.budget_reconstruction}
    for f in Family:
        value = details.get(f"budget_{f.value}_per_year", kept[f])  # a re-plan keeps its plan's, in its params
        current[f] = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    record = msg("variant {name}", name=variant.name)
    faults = []
    for family, amount, percent in variant.budgets:
        if not percent:
            current[family] = amount
            continue
        base = current[family]
        if base is None:
            faults.append(Fault(record, f"a change in percent needs a latest plan with a {family.value} budget "
                                "(sapper plan --budget-per-year); give an amount instead", f"{family.value}_budget"))
        else:
            current[family] = base * (1.0 + amount / 100.0)
    ValidationError.raise_if(record, faults)
    budgets = AnnualBudgets(current[Family.DEMINING], current[Family.RECONSTRUCTION])
    return budgets if budgets.any else None


def _settings(run: PlanRun, variant: Variant, *, start: dt.date, time_limit_s: float | None,
              pricing: PricingProfile | None = None) -> PlanSettings:
    p = run.params
    compile_params = _winter(p.compile_params(), variant)
    return PlanSettings(time_limit_s=time_limit_s if time_limit_s is not None else p.time_limit_s,
                        workers=p.workers, seed=p.seed, engine=p.engine, compile=compile_params, start_date=start,
                        budgets=variant_budgets(run, variant), pricing=pricing)


def _replan(store: Store, view_of: Callable[[PlanRun | None], _VariantView], run: PlanRun, variant: Variant,
            time_limit_s: float | None, pricing: PricingProfile | None = None) -> _VariantView | None:
    """Re-plan ``variant`` as the latest plan, itself a re-plan, was made: from the plan it continues, as of its date
    (or the variant's start date), from scratch (a variant must be free to use its own teams: the stable re-plan
    keeps lots where they were). None when the latest plan is not a re-plan or the plan it continues is gone."""
    rp = run.params.replan
    if rp is None or rp.replan_of is None:
        return None
    try:
        previous = store.plan(rp.replan_of)
    except NotFoundError:
        return None
    params = _winter(previous.params, variant)
    if variant.budgets:  # the re-plan keeps the budgets of the plan it continues: the variant's replace them
        money = variant_budgets(run, variant)
        params = dataclasses.replace(params, budget_demining=money.demining if money else None,
                                     budget_reconstruction=money.reconstruction if money else None)
    previous = dataclasses.replace(previous, params=params)
    view = view_of(previous)
    p = run.params
    replan_store(view, settings=ReplanSettings(
        as_of=variant.start_date or rp.as_of, time_limit_s=time_limit_s if time_limit_s is not None else p.time_limit_s,
        workers=p.workers, seed=p.seed, engine=p.engine, move_cost_days=rp.move_cost_days, stable=False,
        pricing=pricing))
    return view


def variant_workforce(store: Store, variant: Variant) -> tuple[list[DeminerTeam], list[BuilderBrigade]]:
    """The teams and brigades ``variant`` plans with; ValidationError naming the variant and key."""
    record = msg("variant {name}", name=variant.name)
    teams = _apply(store.teams(), lambda t: t.method.value, variant.deminers,
                   [(m.value, c) for m, c in variant.teams], record, "team")
    brigades = _apply(store.brigades(), lambda b: b.trade.value, variant.builders,
                      [(t.value, c) for t, c in variant.brigades], record, "brigade")
    return teams, brigades


def run_variant(store: Store, run: PlanRun, variant: Variant, *, start: dt.date, runs: int, seed: int,
                time_limit_s: float | None, pricing: PricingProfile | None = None
                ) -> tuple[PlanRun, Forecast, Workforce, float]:
    """Plan ``variant`` of the store's register (never written to the store) and forecast it: the plan, the
    forecast, the variant's workforce and the planning seconds. Errors name the variant."""
    record = msg("variant {name}", name=variant.name)
    teams, brigades = variant_workforce(store, variant)
    begin = variant.start_date or start

    def view_of(previous: PlanRun | None) -> _VariantView:
        return _VariantView(store, teams=teams, brigades=brigades, start=begin, previous=previous,
                            winter_work=variant.winter_work)

    try:
        t0 = time.perf_counter()
        view = _replan(store, view_of, run, variant, time_limit_s, pricing)
        if view is None:
            view = view_of(None)
            plan_store(view, settings=_settings(run, variant, start=begin, time_limit_s=time_limit_s,
                                                pricing=pricing))
        seconds = time.perf_counter() - t0
        made = view.latest_plan()
        if made is None or made.finish_date is None:
            status = made.status if made is not None else "none"
            raise PlanError(f"no plan found (status {status}); try a longer --time-limit")
        forecast = forecast_plan(view, runs=runs, seed=seed)
    except ValidationError as exc:
        raise ValidationError(f"{record}: {exc.what}", exc.faults) from None
    except SapperError as exc:
        raise type(exc)(f"{record}: {exc}") from None
    return made, forecast, Workforce.of(teams, brigades), seconds


def compare(store: Store, variants: Sequence[Variant], *, runs: int = 2_000, seed: int = 0,
            time_limit_s: float | None = None, by: dt.date | None = None, critical: int = 5,
            pricing: PricingProfile | None = None) -> WhatIf:
    """The latest plan and each of ``variants``, re-planned and forecast with ``runs`` runs from ``seed``.

    ``by``: the date released km² are compared at (default: the latest plan's planned finish). ``critical``: how
    many assets to follow, those with the highest priority score (ties by id). The store is not written to.
    """
    faults = []
    if runs < 1:
        faults.append(Fault(msg("whatif"), msg("runs must be at least 1, got {runs}", runs=runs), "runs"))
    if critical < 0:
        faults.append(Fault(msg("whatif"), msg("critical must be 0 or more, got {critical}", critical=critical),
                            "critical"))
    names = Counter(v.name for v in variants)
    faults += [Fault(msg("variant {name}", name=n), msg("given twice")) for n, k in names.items() if k > 1]
    ValidationError.raise_if(msg("whatif"), faults)
    run = store.latest_plan()
    if run is None:
        raise NotFoundError("the store has no plan to compare with: run sapper plan first")
    for v in variants:  # every variant's workforce and budgets checked before anything slow runs
        variant_workforce(store, v)
        variant_budgets(run, v)
    meta = store.meta()
    start = (run.summary.start_date if run.summary is not None else
             dt.date.fromisoformat(meta["start_date"]) if "start_date" in meta else run.created_at.date())
    assets = store.assets()
    weights = run.params.profile  # the latest plan's weight profile
    ranked = sorted(((a.id, a.asset_type.value, score_asset(a, weights.asset).value) for a in assets),
                    key=lambda x: (-x[2], x[0]))
    top = ranked[:critical]
    current = forecast_plan(store, runs=runs, seed=seed)
    day = by or run.finish_date or current.overall.p50
    columns = [_column(CURRENT, msg("the store's latest plan ({id})", id=run.id), run, current,
                       Workforce.of(store.teams(), store.brigades()), top, day, 0.0)]
    for v in variants:
        plan, forecast, workforce, seconds = run_variant(store, run, v, start=start, runs=runs, seed=seed,
                                                         time_limit_s=time_limit_s, pricing=pricing)
        columns.append(_column(v.name, v.text, plan, forecast, workforce, top, day, seconds))
    total = sum(a.area_m2 for a in current.areas) / 1e6
    rule = msg_n("the {n} asset with the highest priority score (profile {profile} of the latest plan: criticality, "
                 "people served, damage; see sapper priorities), ties by id; the same asset in every column",
                 "the {n} assets with the highest priority score (profile {profile} of the latest plan: criticality, "
                 "people served, damage; see sapper priorities), ties by id; the same assets in every column",
                 len(top), profile=weights.name)
    return WhatIf(day, runs, seed, rule, round(total, 3), tuple(columns), run.id)


def saved(w: WhatIf, *, made_at: dt.datetime | None = None) -> SavedWhatIf:
    """The comparison as the store keeps it for the report (region and critical assets per column)."""
    return SavedWhatIf(
        w.plan_id, (made_at or dt.datetime.now(dt.UTC)).replace(microsecond=0), w.runs, w.seed, w.by,
        w.hazard_area_km2,
        tuple(WhatIfColumn(c.name, c.changes, c.workforce.deminers, c.workforce.builders, c.winter_work,
                           c.planned_finish, c.finish.p10, c.finish.p50, c.finish.p80, c.finish.p90,
                           c.released_km2[1],
                           tuple(WhatIfAsset(a.asset_id, a.asset_type, a.planned, a.p50, a.p80) for a in c.critical))
              for c in w.columns))


def save_comparison(store: Store, w: WhatIf) -> None:
    """Keep ``w`` in ``store`` as its latest what-if comparison (the situation report shows it)."""
    store.save_whatif(saved(w))


# ------------------------------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------------------------------


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _column_json(c: Column) -> JsonObject:
    f = c.finish
    return {
        "changes": c.changes,
        "workforce": {"deminers": c.workforce.deminers, "builders": c.workforce.builders,
                      "teams": dict(c.workforce.teams), "brigades": dict(c.workforce.brigades)},
        "winter_work": c.winter_work, "start_date": c.start_date.isoformat(),
        "plan": {"status": c.plan_status, "objective": c.objective, "planned_finish": _iso(c.planned_finish),
                 "seconds": c.plan_seconds},
        "finish": {"p10": f.p10.isoformat(), "p50": f.p50.isoformat(), "p80": f.p80.isoformat(),
                   "p90": f.p90.isoformat()},
        "released_km2": {"p10": c.released_km2[0], "p50": c.released_km2[1], "p90": c.released_km2[2]},
        "critical_assets": {a.asset_id: {"asset_type": a.asset_type, "score": a.score, "planned": _iso(a.planned),
                                         "p50": _iso(a.p50), "p80": _iso(a.p80)} for a in c.critical},
        "forecast_seconds": c.forecast_seconds, "beyond_horizon": c.beyond_horizon,
    }


def whatif_document(w: WhatIf) -> JsonObject:
    """The comparison as JSON: ``variants`` maps each name (``current`` first) to its column."""
    return {"runs": w.runs, "seed": w.seed, "released_by": w.by.isoformat(), "hazard_area_km2": w.hazard_area_km2,
            "critical_assets_rule": w.critical_rule,
            "variants": {c.name: _column_json(c) for c in w.columns}}


def write_whatif_json(w: WhatIf, path: str | Path) -> Path:
    """Write :func:`whatif_document` to ``path``."""
    import json

    p = Path(path)
    try:
        p.write_text(json.dumps(whatif_document(w), indent=1, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        raise ValidationError("--out", [Fault(str(p), msg("cannot be written: {reason}",
                                                          reason=exc.strerror))]) from None
    return p


__all__ = ["CURRENT", "Column", "Count", "Variant", "WhatIf", "Workforce", "compare", "parse_variant", "run_variant",
           "save_comparison", "saved", "variant_keys", "variant_workforce", "whatif_document", "write_whatif_json"]
