"""How an exported layer is drawn: the map UI's colours as QGIS styles (QML), OGC Symbology (SLD 1.0) and KML styles.

Hazard areas are coloured by ``release_phase`` with the map page's four colours (``web/static/js/map.js``,
``STATE_COLOURS``): open red, in progress orange, processed yellow, released green. Assets are coloured by
``planned_restoration_date`` along the map page's date ramp (blue → lilac → brown, earliest to latest), cut into at
most :data:`DATE_CLASSES` classes of equal length between the earliest and the latest planned date; an asset the plan
does not restore is grey, as on the map. The same classes give hazard areas a second style, by
``planned_release_date``.

A style is a list of :class:`StyleClass` — a label, a colour and a :class:`Condition` on one column — turned into:

* QML: QGIS's rule-based renderer, one rule per class (``"release_phase" = 'open'``; dates are ISO text, compared as
  text); a layer mixing points, lines and polygons gets one child rule per geometry kind, each with its symbol;
* SLD: one ``Rule`` per class with an ``ogc:Filter`` and a symbolizer per geometry kind;
* KML: one shared ``Style`` per class (``#<class id>``), chosen per placemark by :meth:`Condition.matches`.

Column names go through ``names`` (a Shapefile's 10-character names), so the rules name the columns as the file
spells them. Titles and legend labels are messages: :meth:`LayerStyle.said` puts them in the user's language (``sapper
--lang``) before they are written; the style's name, its rules and the values they test stay as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from sapper.messages import msg

#: The map page's colours of a hazard area by release phase (web/static/js/map.js STATE_COLOURS).
PHASE_COLOURS = {"open": "#d7301f", "in_progress": "#fd8d3c", "processed": "#f2d600", "released": "#1a9850"}
PHASE_LABELS = {"open": msg("open: nothing processed yet"), "in_progress": msg("in progress: part processed"),
                "processed": msg("processed: awaiting release"), "released": msg("released")}
#: Grey of a record without a planned date (map.js NO_DATE).
NO_DATE = "#9e9e9e"
#: Earliest, middle and latest planned date (map.js DATE_RAMP).
DATE_RAMP = ("#2166ac", "#b2abd2", "#b35806")
#: At most this many date classes.
DATE_CLASSES = 5
OUTLINE = "#4d4d4d"


class Kind(IntEnum):
    """Geometry kinds, by dimension."""

    POINT = 0
    LINE = 1
    POLYGON = 2


@dataclass(frozen=True, slots=True)
class Condition:
    """``column`` equal to ``value``; or, with ``low``, an ISO date ``low <= v < high`` (``<= high`` when
    ``closed``); or, with neither, the column empty."""

    column: str
    value: str | None = None
    low: str | None = None
    high: str | None = None
    closed: bool = False

    def matches(self, v: Any) -> bool:
        text = None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        if self.value is not None:
            return text == self.value
        if self.low is not None and self.high is not None:
            return text is not None and self.low <= text and (text <= self.high if self.closed else text < self.high)
        return text is None or text == ""

    def qgis(self, name: str) -> str:
        col = f'"{name}"'
        if self.value is not None:
            return f"{col} = '{self.value}'"
        if self.low is not None:
            return f"{col} >= '{self.low}' AND {col} {'<=' if self.closed else '<'} '{self.high}'"
        return f"{col} IS NULL OR {col} = ''"

    def ogc(self, name: str) -> str:
        prop = f"<ogc:PropertyName>{escape(name)}</ogc:PropertyName>"
        if self.value is not None:
            return (f"<ogc:PropertyIsEqualTo>{prop}<ogc:Literal>{escape(self.value)}</ogc:Literal>"
                    "</ogc:PropertyIsEqualTo>")
        if self.low is not None and self.high is not None:
            upper = "PropertyIsLessThanOrEqualTo" if self.closed else "PropertyIsLessThan"
            return (f"<ogc:And><ogc:PropertyIsGreaterThanOrEqualTo>{prop}<ogc:Literal>{self.low}</ogc:Literal>"
                    f"</ogc:PropertyIsGreaterThanOrEqualTo><ogc:{upper}>{prop}<ogc:Literal>{self.high}</ogc:Literal>"
                    f"</ogc:{upper}></ogc:And>")
        return f"<ogc:PropertyIsNull>{prop}</ogc:PropertyIsNull>"


@dataclass(frozen=True, slots=True)
class StyleClass:
    key: str
    label: str
    colour: str
    when: Condition


@dataclass(frozen=True, slots=True)
class LayerStyle:
    """A named style of a layer: its classes, in legend order, and the geometry kinds the layer holds."""

    name: str
    title: str
    classes: tuple[StyleClass, ...]
    kinds: tuple[Kind, ...]

    def said(self, say: Callable[[str], str]) -> LayerStyle:
        """The style with its title and legend labels in a language (``say`` turns a message into it; the name,
        which identifies the style, stays)."""
        return dataclasses.replace(self, title=say(self.title), classes=tuple(
            dataclasses.replace(c, label=say(c.label)) for c in self.classes))

    def class_of(self, row: Mapping[Any, Any]) -> StyleClass | None:
        """The first class whose condition the row (by long column name) meets."""
        return next((c for c in self.classes if c.when.matches(row.get(c.when.column))), None)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def ramp(t: float) -> str:
    """The date ramp's colour at ``t`` in 0–1, interpolated in RGB as MapLibre's ``interpolate`` does."""
    t = min(1.0, max(0.0, t))
    lo, hi, u = (DATE_RAMP[0], DATE_RAMP[1], t * 2) if t <= 0.5 else (DATE_RAMP[1], DATE_RAMP[2], t * 2 - 1)
    a, b = _rgb(lo), _rgb(hi)
    return "#" + "".join(f"{round(x + (y - x) * u):02x}" for x, y in zip(a, b, strict=True))


def kinds_of(dimensions: Iterable[int]) -> tuple[Kind, ...]:
    found = sorted({Kind(d) for d in dimensions})
    return tuple(found) or (Kind.POLYGON,)


def phase_style(kinds: Sequence[Kind]) -> LayerStyle:
    classes = tuple(StyleClass(f"phase-{p}", PHASE_LABELS[p], c, Condition("release_phase", value=p))
                    for p, c in PHASE_COLOURS.items())
    return LayerStyle("land release state", msg("Hazard areas by land-release state (as the map page)"), classes,
                      tuple(kinds))


def date_style(name: str, title: str, column: str, dates: Iterable[dt.date | None], kinds: Sequence[Kind]
               ) -> LayerStyle:
    """Classes of equal length between the earliest and latest of ``dates`` (at most :data:`DATE_CLASSES`), then
    "not planned"."""
    days = sorted({d for d in dates if d is not None})
    classes: list[StyleClass] = []
    if days:
        first, last = days[0], days[-1]
        span = (last - first).days
        n = max(1, min(DATE_CLASSES, len(days), span + 1))
        edges = [first + dt.timedelta(days=round(span * i / n)) for i in range(n)] + [last]
        for i in range(n):
            lo, hi = edges[i], edges[i + 1]
            closed = i == n - 1
            label = f"{lo.isoformat()} – {(hi if closed else hi - dt.timedelta(days=1)).isoformat()}"
            colour = ramp((i + 0.5) / n) if n > 1 else DATE_RAMP[0]
            classes.append(StyleClass(f"date-{i + 1}", label, colour,
                                      Condition(column, low=lo.isoformat(), high=hi.isoformat(), closed=closed)))
    classes.append(StyleClass("date-none", msg("not planned"), NO_DATE, Condition(column)))
    return LayerStyle(name, title, tuple(classes), tuple(kinds))


# ----------------------------------------------------------------------------------------------------
# QML (QGIS)
# ----------------------------------------------------------------------------------------------------

_QGIS_TYPE = {Kind.POINT: "marker", Kind.LINE: "line", Kind.POLYGON: "fill"}
_QGIS_GEOMETRY = {Kind.POINT: "Point", Kind.LINE: "Line", Kind.POLYGON: "Polygon"}


def _qgis_colour(colour: str, alpha: int = 255) -> str:
    r, g, b = _rgb(colour)
    return f"{r},{g},{b},{alpha}"


def _options(values: dict[str, str]) -> str:
    items = "".join(f'<Option name={quoteattr(k)} type="QString" value={quoteattr(v)}/>' for k, v in values.items())
    return f'<Option type="Map">{items}</Option>'


def _qgis_symbol(n: int, kind: Kind, colour: str) -> str:
    if kind is Kind.POLYGON:
        layer_class, props = "SimpleFill", {"color": _qgis_colour(colour, 200), "outline_color": _qgis_colour(OUTLINE),
                                            "outline_width": "0.26", "outline_width_unit": "MM", "style": "solid",
                                            "outline_style": "solid"}
    elif kind is Kind.LINE:
        layer_class, props = "SimpleLine", {"line_color": _qgis_colour(colour), "line_width": "1.2",
                                            "line_width_unit": "MM", "line_style": "solid", "capstyle": "round"}
    else:
        layer_class, props = "SimpleMarker", {"color": _qgis_colour(colour), "outline_color": "32,32,32,255",
                                              "outline_width": "0.4", "size": "3.2", "size_unit": "MM",
                                              "name": "circle"}
    return (f'<symbol name="{n}" type="{_QGIS_TYPE[kind]}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="{layer_class}" enabled="1" locked="0" pass="0">{_options(props)}</layer></symbol>')


def to_qml(style: LayerStyle, names: Callable[[str], str] = str, *, aliases: dict[str, str] | None = None) -> str:
    """The style as a QGIS layer style document (QML, rule-based renderer); ``aliases`` (file name → long name)
    become the layer's field aliases."""
    rules: list[str] = []
    symbols: list[str] = []
    mixed = len(style.kinds) > 1
    for c in style.classes:
        expr = quoteattr(c.when.qgis(names(c.when.column)))
        if not mixed:
            symbols.append(_qgis_symbol(len(symbols), style.kinds[0], c.colour))
            rules.append(f'<rule key="{{{c.key}}}" filter={expr} label={quoteattr(c.label)} '
                         f'symbol="{len(symbols) - 1}"/>')
            continue
        children = []
        for kind in style.kinds:
            symbols.append(_qgis_symbol(len(symbols), kind, c.colour))
            children.append(f'<rule key="{{{c.key}-{kind.name.lower()}}}" '
                            f'filter="geometry_type($geometry) = \'{_QGIS_GEOMETRY[kind]}\'" '
                            f'label={quoteattr(kind.name.lower())} symbol="{len(symbols) - 1}"/>')
        rules.append(f'<rule key="{{{c.key}}}" filter={expr} label={quoteattr(c.label)}>{"".join(children)}</rule>')
    alias_xml = ""
    if aliases:
        alias_xml = "<aliases>" + "".join(f"<alias field={quoteattr(f)} index=\"{k}\" name={quoteattr(a)}/>"
                                          for k, (f, a) in enumerate(aliases.items())) + "</aliases>"
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            '<qgis version="3.22.0" styleCategories="Symbology|Fields">'
            '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">'
            f'<rules key="{{root}}">{"".join(rules)}</rules><symbols>{"".join(symbols)}</symbols></renderer-v2>'
            f"{alias_xml}<layerGeometryType>{int(style.kinds[0]) if not mixed else 4}</layerGeometryType></qgis>\n")


# ----------------------------------------------------------------------------------------------------
# SLD 1.0 (OGC Styled Layer Descriptor)
# ----------------------------------------------------------------------------------------------------


def _sld_symbolizer(kind: Kind, colour: str) -> str:
    def css(name: str, value: str) -> str:
        return f'<CssParameter name="{name}">{value}</CssParameter>'

    if kind is Kind.POLYGON:
        return (f"<PolygonSymbolizer><Fill>{css('fill', colour)}{css('fill-opacity', '0.8')}</Fill>"
                f"<Stroke>{css('stroke', OUTLINE)}{css('stroke-width', '1')}</Stroke></PolygonSymbolizer>")
    if kind is Kind.LINE:
        return f"<LineSymbolizer><Stroke>{css('stroke', colour)}{css('stroke-width', '4')}</Stroke></LineSymbolizer>"
    return ("<PointSymbolizer><Graphic><Mark><WellKnownName>circle</WellKnownName>"
            f"<Fill>{css('fill', colour)}</Fill><Stroke>{css('stroke', '#202020')}{css('stroke-width', '1.5')}"
            "</Stroke></Mark><Size>12</Size></Graphic></PointSymbolizer>")


def to_sld(style: LayerStyle, layer: str, names: Callable[[str], str] = str) -> str:
    """The style as an OGC SLD 1.0 document for ``layer``."""
    rules = "".join(
        f"<Rule><Name>{escape(c.key)}</Name><Title>{escape(c.label)}</Title>"
        f"<ogc:Filter>{c.when.ogc(names(c.when.column))}</ogc:Filter>"
        + "".join(_sld_symbolizer(k, c.colour) for k in style.kinds) + "</Rule>"
        for c in style.classes)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" '
            'xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/'
            'StyledLayerDescriptor.xsd">'
            f"<NamedLayer><Name>{escape(layer)}</Name><UserStyle><Name>{escape(style.name)}</Name>"
            f"<Title>{escape(style.title)}</Title><FeatureTypeStyle>{rules}</FeatureTypeStyle></UserStyle>"
            "</NamedLayer></StyledLayerDescriptor>\n")


# ----------------------------------------------------------------------------------------------------
# KML
# ----------------------------------------------------------------------------------------------------


def kml_colour(colour: str, alpha: int = 255) -> str:
    """``#rrggbb`` as KML's ``aabbggrr``."""
    r, g, b = _rgb(colour)
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"


def to_kml_styles(style: LayerStyle) -> str:
    """One ``<Style id=…>`` per class: polygons filled (translucent) with a dark outline, lines in the colour,
    points as the viewer's own icon tinted with the colour (no icon file is named: the file needs no network)."""
    line_in_colour = Kind.LINE in style.kinds
    out = []
    for c in style.classes:
        line = kml_colour(c.colour if line_in_colour else OUTLINE)
        out.append(
            f'<Style id="{escape(c.key)}"><LineStyle><color>{line}</color><width>{3 if line_in_colour else 1.5}'
            f"</width></LineStyle><PolyStyle><color>{kml_colour(c.colour, 0xB4)}</color></PolyStyle>"
            f"<IconStyle><color>{kml_colour(c.colour)}</color></IconStyle></Style>")
    return "".join(out)
