"""Pricing profiles in TOML: the shipped default (``sapper/io/data/pricing.toml``) and a programme's own file.

The layout is the default file's (docs/costs.md). Reading collects every fault of a file (unknown keys, missing
prices, a price without a source) and raises them at once, naming the file and the entry.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from sapper.domain.assets import AssetType, DamageLevel
from sapper.domain.pricing import (
    AssetPrice,
    AssetUnit,
    Basis,
    Family,
    Figure,
    Overhead,
    PricingProfile,
    ReleaseActivity,
    ReleasePrice,
)
from sapper.errors import Fault, ValidationError
from sapper.messages import msg

#: Name under which the shipped default profile is reported.
DEFAULT_NAME = "sapper default (sapper/io/data/pricing.toml)"

_TOP = {
    "name",
    "currency",
    "currency_source",
    "price_year",
    "price_year_source",
    "bridge_length_m",
    "release",
    "reconstruction",
    "overheads",
}


def default_pricing_text() -> str:
    """The shipped default profile, as TOML text."""
    return resources.files("sapper.io").joinpath("data/pricing.toml").read_text(encoding="utf-8")


def load_pricing(path: str | Path | None = None) -> PricingProfile:
    """The pricing profile in ``path`` (None: the shipped default). ValidationError names the file and each fault."""
    if path is None:
        return pricing_from_toml(default_pricing_text(), DEFAULT_NAME)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(msg("pricing profile {name}", name=p), [Fault(str(p), msg("cannot be read ({strerror})",
                                                                         strerror=exc.strerror))]) from None
    except UnicodeDecodeError:
        raise ValidationError(msg("pricing profile {name}", name=p), [Fault(str(p),
                                                                            msg("is not UTF-8 text"))]) from None
    return pricing_from_toml(text, str(p))


def pricing_from_toml(text: str, origin: str) -> PricingProfile:
    """Parse a profile from TOML ``text``; ``origin`` names it in errors."""
    what = msg("pricing profile {origin}", origin=origin)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(what, [Fault(origin, msg("is not valid TOML ({exc})", exc=exc))]) from None
    faults: list[Fault] = [Fault(origin, msg("unknown key {k!r}", k=k), k) for k in sorted(set(data) - _TOP)]
    release: dict[ReleaseActivity, ReleasePrice] = {}
    for key, entry in _table(data, "release", origin, faults).items():
        rec = f"{origin}: release.{key}"
        try:
            activity = ReleaseActivity(key)
            release[activity] = ReleasePrice(
                activity,
                Basis(_text(entry, "basis", rec, faults)),
                _number(entry, "amount", rec, faults),
                _text(entry, "source", rec, faults),
            )
        except ValueError:
            faults.append(_choice(rec, key, entry, "basis", Basis, ReleaseActivity))
        except ValidationError as exc:
            faults.extend(Fault(rec, f.reason, f.field) for f in exc.faults)
    reconstruction: dict[AssetType, AssetPrice] = {}
    for key, entry in _table(data, "reconstruction", origin, faults).items():
        rec = f"{origin}: reconstruction.{key}"
        try:
            kind = AssetType(key)
            prices = {d: _number(entry, d.value, rec, faults) for d in DamageLevel}
            reconstruction[kind] = AssetPrice(
                kind, AssetUnit(_text(entry, "unit", rec, faults)), prices, _text(entry, "source", rec, faults)
            )
        except ValueError:
            faults.append(_choice(rec, key, entry, "unit", AssetUnit, AssetType))
        except ValidationError as exc:
            faults.extend(Fault(rec, f.reason, f.field) for f in exc.faults)
    overheads: list[Overhead] = []
    raw_overheads = data.get("overheads", [])
    if not isinstance(raw_overheads, list):
        faults.append(Fault(origin, msg("overheads must be a list of [[overheads]] tables"), "overheads"))
        raw_overheads = []
    for i, entry in enumerate(raw_overheads, start=1):
        rec = f"{origin}: overheads #{i}"
        if not isinstance(entry, dict):
            faults.append(Fault(rec, msg("must be a table")))
            continue
        families = entry.get("applies_to", [])
        try:
            applies = tuple(Family(f) for f in families) if isinstance(families, list) else ()
            overheads.append(
                Overhead(
                    _text(entry, "name", rec, faults),
                    _number(entry, "share", rec, faults),
                    applies,
                    _text(entry, "source", rec, faults),
                )
            )
        except ValueError:
            faults.append(
                Fault(
                    rec,
                    msg("applies_to must list {value}, got {families!r}",
                        value=' and/or '.join(f.value for f in Family), families=families),
                    "applies_to",
                )
            )
        except ValidationError as exc:
            faults.extend(Fault(rec, f.reason, f.field) for f in exc.faults)
    bridge = data.get("bridge_length_m", {"value": 30.0, "unit": "m", "source": "assumption"})
    if not isinstance(bridge, dict):
        faults.append(Fault(origin, msg("bridge_length_m must be a table (value, unit, source)"), "bridge_length_m"))
        bridge = {}
    rec = f"{origin}: bridge_length_m"
    bridge_figure = Figure(_number(bridge, "value", rec, faults), "m", _text(bridge, "source", rec, faults))
    name = data.get("name", origin)
    currency = _text(data, "currency", origin, faults)
    year = data.get("price_year")
    if not isinstance(year, int) or isinstance(year, bool):
        faults.append(Fault(origin, msg("price_year must be a whole year, got {year!r}", year=year), "price_year"))
        year = 0
    ValidationError.raise_if(what, faults)
    try:
        return PricingProfile(
            str(name),
            currency,
            year,
            release,
            reconstruction,
            tuple(overheads),
            bridge_figure,
            currency_source=_text(data, "currency_source", origin, faults),
            price_year_source=_text(data, "price_year_source", origin, faults),
        )
    except ValidationError as exc:
        raise ValidationError(what, [Fault(origin, f.reason, f.field) for f in (*faults, *exc.faults)]) from None


def _table(data: dict[str, object], key: str, origin: str, faults: list[Fault]) -> dict[str, dict[str, object]]:
    raw = data.get(key, {})
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        faults.append(Fault(origin, msg("{key} must hold one table per entry ([{key}.NAME])", key=key), key))
        return {}
    return raw


def _text(entry: dict[str, object], key: str, record: str, faults: list[Fault]) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        faults.append(Fault(record, msg("{key} must be a non-empty text", key=key), key))
        return ""
    return value


def _number(entry: dict[str, object], key: str, record: str, faults: list[Fault]) -> float:
    value = entry.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        faults.append(Fault(record, msg("{key} must be a number, got {value!r}", key=key, value=value), key))
        return 0.0
    return float(value)


def _choice(
    record: str,
    key: str,
    entry: dict[str, object],
    field: str,
    kinds: type[Basis] | type[AssetUnit],
    names: type[ReleaseActivity] | type[AssetType],
) -> Fault:
    """The fault of an unknown entry name or an unknown ``field`` value."""
    if key not in {n.value for n in names}:
        return Fault(record, msg("unknown entry {key!r}: use one of {value}", key=key,
                                 value=', '.join(n.value for n in names)))
    return Fault(record, msg("{field} must be one of {value}, got {value2!r}", field=field,
                             value=', '.join(k.value for k in kinds), value2=entry.get(field)), field)
