"""Small, pure SVG helpers: each takes geometries or values and returns SVG markup as a string.

Everything user-supplied goes through :func:`esc`, so the markup is well-formed XML and safe inside HTML.
Pixel coordinates are rounded to 0.1 px; paths use relative moves to keep big maps small.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from markupsafe import escape
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from sapper.report.series import MONTHS, Series

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


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    step = nice_step(hi - lo, target)
    first = math.floor(lo / step) * step
    ticks = []
    v = first
    while v <= hi + step * 1e-9:
        if v >= lo - step * 1e-9:
            ticks.append(round(v, 10))
        v += step
    return ticks


# -- time charts ---------------------------------------------------------------------------------------------


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


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the months in [start, end]."""
    out = []
    d = start.replace(day=1)
    if d < start:
        d = (d + dt.timedelta(days=32)).replace(day=1)
    while d <= end:
        out.append(d)
        d = (d + dt.timedelta(days=32)).replace(day=1)
    return out


def time_axis(ts: TimeScale, *, y: float, grid_top: float | None = None, above: bool = False) -> str:
    """Month ticks with labels and year labels along ``y``; with ``grid_top``, light month and stronger year
    grid lines up to it. ``above`` puts the labels above the axis line (for an axis at the top of a chart)."""
    months = months_between(ts.start, ts.end)
    per_month = ts.px_per_day * 30.4
    sign = -1.0 if above else 1.0
    parts = [el("line", x1=ts.x0, y1=y, x2=ts.x1, y2=y, cls="axis")]
    grid = []
    for m in months:
        x = ts.x(m)
        is_year = m.month == 1
        if grid_top is not None:
            grid.append(el("line", x1=x, y1=grid_top, x2=x, y2=y, cls="grid-year" if is_year else "grid"))
        parts.append(el("line", x1=x, y1=y, x2=x, y2=y + sign * (7.0 if is_year else 4.0), cls="axis"))
        if m >= ts.end:
            continue
        mid = ts.x(min(ts.end, (m + dt.timedelta(days=32)).replace(day=1))) if per_month < 400 else x
        cx = (x + mid) / 2.0
        label = MONTHS[m.month - 1] if per_month >= 24 else MONTHS[m.month - 1][0] if per_month >= 9 else ""
        if label:
            parts.append(
                text(cx, y + sign * 5.0 + (0.0 if above else 9.0), label, cls="tick", text_anchor="middle")
            )
        if is_year or m == months[0]:
            parts.append(text(x + 2.0, y + sign * 18.0 + (0.0 if above else 8.0), str(m.year), cls="year"))
    return "".join(grid) + "".join(parts)


def step_path(series: Series, ts: TimeScale, *, y_of: YMap, end: dt.date) -> str:
    """A step line through ``series`` (each value holds until the next date), continued to ``end``."""
    if not series:
        return ""
    d0, v0 = series[0]
    x, y = ts.x(max(d0, ts.start)), y_of(v0)
    parts = [f"M{num(x)} {num(y)}"]
    for d, v in series[1:]:
        parts.append(f"H{num(ts.x(min(max(d, ts.start), end)))}V{num(y_of(v))}")
    parts.append(f"H{num(ts.x(end))}")
    return "".join(parts)


@dataclass(frozen=True)
class YMap:
    """Values in [``lo``, ``hi``] → y pixels from ``bottom`` up to ``top``."""

    lo: float
    hi: float
    bottom: float
    top: float

    def __call__(self, v: float) -> float:
        span = self.hi - self.lo or 1.0
        return self.bottom - (v - self.lo) / span * (self.bottom - self.top)


def y_axis(ym: YMap, ticks: Iterable[float], *, x0: float, x1: float, fmt: str = "{:g}") -> str:
    """Horizontal grid lines with labels left of ``x0``."""
    parts = []
    for t in ticks:
        y = ym(t)
        parts.append(el("line", x1=x0, y1=y, x2=x1, y2=y, cls="grid"))
        parts.append(text(x0 - 6.0, y + 3.5, fmt.format(t), cls="tick", text_anchor="end"))
    parts.append(el("line", x1=x0, y1=ym.bottom, x2=x0, y2=ym.top, cls="axis"))
    return "".join(parts)
