"""An import profile: how one source system's columns and values become sapper's, kept for the next delivery.

A profile says three things, each optional:

* ``map``: sapper's field ← the source's column (``id = "fileId"``, ``hazard_class = "typeArea"``);
* ``values``: per sapper field, the source's value → sapper's (``"Suspected Minefield" = "SHA"``);
* ``defaults``: a value for a field the source does not have, or leaves empty (``status = "open"``).

On the command line they are ``--map TARGET=SOURCE``, ``--value "FIELD:SOURCE VALUE=TARGET VALUE"`` and
``--default FIELD=VALUE``; in a file, TOML::

    # sapper import profile
    kind = "hazards"          # optional: hazards or assets
    crs = "EPSG:4326"         # optional: the files' CRS when they carry none

    [map]
    id = "fileId"
    hazard_class = "typeArea"

    [values.hazard_class]
    "Suspected Minefield" = "SHA"

    [defaults]
    status = "open"

Source columns are matched ignoring case; source values ignoring case and runs of spaces. The IMSMA exchange uses
the same profile type for a programme's value map.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sapper.errors import Fault, ImportFileError, ValidationError
from sapper.messages import msg


def value_key(text: Any) -> str:
    """A source value as a lookup key: trimmed, case folded, runs of white space one space."""
    return " ".join(str(text).split()).casefold()


@dataclass(frozen=True, slots=True)
class ImportProfile:
    """Column map (target → source column), value maps (target field → source value → target value), defaults
    (target field → value), and optionally the kind and CRS the profile is for."""

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    kind: str | None = None
    crs: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.columns or self.values or self.defaults)

    def translate(self, target: str, value: Any) -> Any:
        """``value`` of field ``target`` through the value map (unchanged when the map does not name it)."""
        table = self.values.get(target)
        if not table:
            return value
        lookup = {value_key(k): v for k, v in table.items()}
        return lookup.get(value_key(value), value)

    def knows(self, target: str, value: Any) -> bool:
        table = self.values.get(target) or {}
        return value_key(value) in {value_key(k) for k in table}

    def merged(self, over: ImportProfile) -> ImportProfile:
        """This profile with ``over``'s entries added (``over`` wins where both say something)."""
        values = {k: dict(v) for k, v in self.values.items()}
        for target, table in over.values.items():
            values.setdefault(target, {}).update(table)
        return ImportProfile(
            columns={**self.columns, **over.columns},
            values=values,
            defaults={**self.defaults, **over.defaults},
            kind=over.kind or self.kind,
            crs=over.crs or self.crs,
        )

    def check(self, fields: Sequence[str], *, what: str = msg("import profile")) -> None:
        """ValidationError naming every entry about a field that is not one of ``fields``, or a source column
        mapped to two fields."""
        faults = [Fault(what, msg("{target!r} is not a field sapper imports here (fields: {value})", target=target,
                                  value=', '.join(fields)), part)
                  for part, names in (("map", self.columns), ("values", self.values), ("defaults", self.defaults))
                  for target in names if target not in fields]
        seen: dict[str, str] = {}
        for target, source in self.columns.items():
            key = source.strip().lower()
            if key in seen:
                faults.append(Fault(what, msg("column {source!r} is mapped to both {value} and {target}",
                                              source=source, value=seen[key], target=target), "map"))
            seen[key] = target
        ValidationError.raise_if(what, faults)

    def to_toml(self) -> str:
        """The profile as TOML (the module docstring's format), read back by :func:`load_profile`."""
        out = ["# sapper import profile: sapper import hazards|assets FILE --profile THIS.toml"]
        if self.kind:
            out.append(f"kind = {_q(self.kind)}")
        if self.crs:
            out.append(f"crs = {_q(self.crs)}")
        if self.columns:
            out += ["", "[map]", *(f"{_q(k)} = {_q(v)}" for k, v in self.columns.items())]
        for target, table in self.values.items():
            out += ["", f"[values.{_q(target)}]", *(f"{_q(k)} = {_q(v)}" for k, v in table.items())]
        if self.defaults:
            out += ["", "[defaults]", *(f"{_q(k)} = {_q(v)}" for k, v in self.defaults.items())]
        return "\n".join(out) + "\n"


def _q(text: str) -> str:
    # A JSON string (non-ASCII kept) is a valid TOML basic string: the same escapes, \\uXXXX for control characters.
    return json.dumps(text, ensure_ascii=False)


def _split(text: str, sep: str, option: str, example: str) -> tuple[str, str]:
    left, found, right = text.partition(sep)
    if not found or not left.strip() or not right.strip():
        raise ValidationError(option, [Fault(option, msg("{text!r} is not {example}", text=text, example=example),
                                             option.lstrip("-"))])
    return left.strip(), right.strip()


def from_options(
    maps: Iterable[str] = (), values: Iterable[str] = (), defaults: Iterable[str] = ()
) -> ImportProfile:
    """A profile from ``--map TARGET=SOURCE``, ``--value "FIELD:SOURCE=TARGET"`` and ``--default FIELD=VALUE``."""
    columns = dict(_split(m, "=", "--map", "TARGET=SOURCE (e.g. id=fileId)") for m in maps)
    table: dict[str, dict[str, str]] = {}
    for v in values:
        target, pair = _split(v, ":", "--value", 'FIELD:SOURCE VALUE=TARGET VALUE (e.g. "hazard_class:Suspected '
                                                  'Minefield=SHA")')
        source, value = _split(pair, "=", "--value", "FIELD:SOURCE VALUE=TARGET VALUE")
        table.setdefault(target, {})[source] = value
    fills = dict(_split(d, "=", "--default", "FIELD=VALUE (e.g. status=open)") for d in defaults)
    return ImportProfile(columns=columns, values=table, defaults=fills)


def _strings(data: Any, where: str, path: Path) -> dict[str, str]:
    if not isinstance(data, dict) or not all(isinstance(v, str | int | float | bool) for v in data.values()):
        raise ImportFileError(msg("{path}: [{where}] must be a table of names to text values", path=path, where=where))
    return {str(k): str(v) for k, v in data.items()}


def load_profile(path: str | Path) -> ImportProfile:
    """The profile in a TOML file; ImportFileError naming the file and the reason when it cannot be used."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ImportFileError(msg("{path}: cannot be read ({reason})", path=p, reason=exc.strerror or exc)) from None
    except UnicodeDecodeError:
        raise ImportFileError(msg("{path}: is not UTF-8 text (a profile is a TOML file)", path=p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ImportFileError(msg("{path}: is not a readable TOML profile ({reason})", path=p, reason=exc)) from None
    unknown = sorted(set(data) - {"kind", "crs", "map", "values", "defaults"})
    if unknown:
        raise ImportFileError(msg("{path}: unknown entries {entries} (a profile has kind, crs, [map], [values.FIELD] "
                                  "and [defaults])", path=p, entries=", ".join(unknown)))
    values_data = data.get("values", {})
    if not isinstance(values_data, dict):
        raise ImportFileError(msg("{path}: [values] must hold one table per field, [values.FIELD]", path=p))
    for key in ("kind", "crs"):
        if key in data and not isinstance(data[key], str):
            raise ImportFileError(msg("{path}: {key} must be text", path=p, key=key))
    return ImportProfile(
        columns=_strings(data.get("map", {}), "map", p),
        values={str(k): _strings(v, f"values.{k}", p) for k, v in values_data.items()},
        defaults=_strings(data.get("defaults", {}), "defaults", p),
        kind=data.get("kind"),
        crs=data.get("crs"),
    )


def save_profile(path: str | Path, profile: ImportProfile) -> None:
    """Write ``profile`` to ``path`` as TOML, atomically (a reader never sees half a profile)."""
    p = Path(path)
    if not p.parent.is_dir():
        raise ImportFileError(msg("{path}: the folder {folder} does not exist", path=p, folder=p.parent))
    fd, tmp = tempfile.mkstemp(prefix=".sapper-profile-", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(profile.to_toml())
        os.replace(tmp, p)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ImportFileError(msg("{path}: cannot be written ({reason})", path=p, reason=exc.strerror or exc)) from None
