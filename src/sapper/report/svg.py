"""Small, pure SVG helpers: each takes geometries or values and returns SVG markup as a string.

Everything user-supplied goes through :func:`esc`, so the markup is well-formed XML and safe inside HTML.
Pixel coordinates are rounded to 0.1 px; paths use relative moves to keep big maps small.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from markupsafe import escape
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

SVG_NS = "http://www.w3.org/2000/svg"


def esc(value: object) -> str:
    """``value`` as text that is safe in XML/HTML content and attribute values."""
    return str(escape(str(value)))


def num(value: float) -> str:
    """A coordinate rounded to 0.1 without a trailing ``.0`` (``12.0`` → ``12``, ``-0.04`` → ``0``)."""
    r = round(value, 1)
    return f"{r:g}" if r != 0 else "0"


def attrs(**kw: object) -> str:
    """Attributes as `` name="value"`` (``stroke_width`` → ``stroke-width``, ``cls`` → ``class``).

    ``None`` values are left out; floats are rounded to 0.1."""
    out = []
    for k, v in kw.items():
        if v is None:
            continue
        name = "class" if k == "cls" else k.replace("_", "-")
        text = num(v) if isinstance(v, float) else esc(v)
        out.append(f' {name}="{text}"')
    return "".join(out)


def el(tag: str, content: str = "", /, **kw: object) -> str:
    """One element; ``content`` is markup (already escaped), attributes are escaped here."""
    return f"<{tag}{attrs(**kw)}>{content}</{tag}>" if content else f"<{tag}{attrs(**kw)}/>"


def title(text: str) -> str:
    """A ``<title>`` child: the browser shows it on hover."""
    return f"<title>{esc(text)}</title>"


def text(x: float, y: float, s: str, /, **kw: object) -> str:
    return el("text", esc(s), x=float(x), y=float(y), **kw)


def svg_root(width: float, height: float, content: str, /, **kw: object) -> str:
    """An ``<svg>`` element with a ``width``×``height`` px viewBox that scales to its container."""
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {num(width)} {num(height)}"'
        f"{attrs(width=num(width), height=num(height), **kw)}>{content}</svg>"
    )


# -- geometry ------------------------------------------------------------------------------------------------


def _tenths(xy: NDArray[np.float64]) -> NDArray[np.int64]:
    """Coordinates in integer tenths of a pixel, consecutive duplicates dropped."""
    q: NDArray[np.int64] = np.rint(xy[:, :2] * 10.0).astype(np.int64)
    if len(q) > 1:
        keep = np.ones(len(q), dtype=bool)
        keep[1:] = np.any(q[1:] != q[:-1], axis=1)
        q = q[keep]
    return q


def _run(q: NDArray[np.int64], *, closed: bool) -> str:
    """One ring or line as ``M x y l dx dy ...`` (``Z`` when closed)."""
    if closed and len(q) > 1 and bool(np.all(q[0] == q[-1])):
        q = q[:-1]
    head = f"M{q[0, 0] / 10:g} {q[0, 1] / 10:g}"
    if len(q) == 1:  # collapsed to one pixel: a zero-length segment still shows its stroke cap
        return head + "h0" + ("z" if closed else "")
    d = np.diff(q, axis=0).ravel().tolist()
    body = " ".join([f"{v / 10:g}" for v in d])
    return f"{head}l{body}{'z' if closed else ''}"


def path_d(geom: BaseGeometry) -> str:
    """The SVG path data of a geometry already in pixel coordinates (polygons, lines and collections of them;
    points are skipped — draw them with :func:`circle`). Empty for an empty geometry."""
    if geom is None or geom.is_empty:
        return ""
    kind = geom.geom_type
    if kind == "Polygon":
        rings = [geom.exterior, *geom.interiors]
        return "".join(_run(_tenths(np.asarray(r.coords)), closed=True) for r in rings if not r.is_empty)
    if kind in ("LineString", "LinearRing"):
        return _run(_tenths(np.asarray(geom.coords)), closed=kind == "LinearRing")
    if kind.startswith("Multi") or kind == "GeometryCollection":
        return "".join(path_d(g) for g in geom.geoms)
    return ""


def point_xy(geom: BaseGeometry) -> list[tuple[float, float]]:
    """The (x, y) of every point in a (multi)point geometry; empty for other kinds."""
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Point":
        return [(float(geom.x), float(geom.y))]
    if geom.geom_type in ("MultiPoint", "GeometryCollection"):
        return [xy for g in geom.geoms for xy in point_xy(g)]
    return []


def circle(x: float, y: float, r: float, /, content: str = "", **kw: object) -> str:
    return el("circle", content, cx=float(x), cy=float(y), r=float(r), **kw)


@dataclass(frozen=True)
class Viewport:
    """Fit a box of projected metres (``bounds``) into a pixel box, keeping the aspect ratio, y flipped."""

    bounds: tuple[float, float, float, float]  # minx, miny, maxx, maxy in metres
    x0: float
    y0: float
    width: float
    height: float

    @property
    def scale(self) -> float:
        """Pixels per metre."""
        minx, miny, maxx, maxy = self.bounds
        return min(self.width / max(maxx - minx, 1e-9), self.height / max(maxy - miny, 1e-9))

    @property
    def offset(self) -> tuple[float, float]:
        minx, miny, maxx, maxy = self.bounds
        s = self.scale
        return (
            self.x0 + (self.width - (maxx - minx) * s) / 2.0,
            self.y0 + (self.height - (maxy - miny) * s) / 2.0,
        )

    def xy(self, x: float, y: float) -> tuple[float, float]:
        """Metres → pixels."""
        s, (ox, oy) = self.scale, self.offset
        return ox + (x - self.bounds[0]) * s, oy + (self.bounds[3] - y) * s

    def project(self, geoms: Sequence[BaseGeometry] | NDArray[np.object_]) -> NDArray[np.object_]:
        """Metres → pixels for an array of geometries (one vectorised call)."""
        s, (ox, oy) = self.scale, self.offset
        minx, maxy = self.bounds[0], self.bounds[3]

        def to_px(c: NDArray[np.float64]) -> NDArray[np.float64]:
            out = np.empty_like(c)
            out[:, 0] = ox + (c[:, 0] - minx) * s
            out[:, 1] = oy + (maxy - c[:, 1]) * s
            return out

        result: NDArray[np.object_] = shapely.transform(np.asarray(geoms, dtype=object), to_px)
        return result


def nice_step(span: float, target: int) -> float:
    """The 1-2-5 step nearest to giving ``target`` intervals over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / max(target, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for limit, m in ((1.5, 1), (3.0, 2), (7.0, 5), (math.inf, 10)) if raw / mag < limit)


@dataclass(frozen=True)
class TimeScale:
    """Days in [``start``, ``end``) → x pixels in [``x0``, ``x1``]."""

    start: dt.date
    end: dt.date
    x0: float
    x1: float

    def x(self, d: dt.date) -> float:
        days = max((self.end - self.start).days, 1)
        return self.x0 + (d - self.start).days / days * (self.x1 - self.x0)

    @property
    def px_per_day(self) -> float:
        return (self.x1 - self.x0) / max((self.end - self.start).days, 1)
