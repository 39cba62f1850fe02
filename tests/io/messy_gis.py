"""Large messy hazard files built in code: ~10,000 features, thousands of them broken the ways real GIS data is.

:func:`messy_register` draws the features (fixed seed); :func:`write_messy` writes them as GeoJSON text, a
GeoPackage or a zipped Shapefile. Geometry is written from raw coordinates (GeoJSON by hand, WKB by hand for the
GeoPackage and the Shapefile), so the files hold what GDAL would never write itself: rings that are not closed,
bow-ties, NaN coordinates, metres in a layer that says EPSG:4326.

Every feature carries what sapper must do with it (``outcome``: imported, repaired or rejected), a fragment of the
reason it must give, and for stored features the geometry it must store, built **by hand** (a bow-tie's two
triangles, a spiked square without its spike), never by calling shapely's ``make_valid``. Tests compare sapper's
stored areas with the areas of these geometries computed on the ellipsoid (:func:`geodesic_area_m2`, pyproj's
``Geod``), so neither side of the comparison goes through sapper's code.

What each format can hold decides which broken kinds its file gets: a Shapefile cannot mix points with polygons,
hold NaN or Z on some features only, and stores an empty polygon as a null shape; GeoJSON cannot hold NaN.
"""

from __future__ import annotations

import json
import math
import random
import struct
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

#: Vertices of each "very large" polygon.
BIG_VERTICES = 100_000
#: Where the register lies (the Sumy–Kursk border, WGS84 degrees): lon_min, lat_min, lon_max, lat_max.
REGION = (33.8, 50.4, 36.2, 51.9)
_GEOD = Geod(ellps="WGS84")
_TO_UTM36 = Transformer.from_crs("EPSG:4326", "EPSG:32636", always_xy=True)

#: Shapefile column names (10 characters at most) as an officer's GIS would have written them.
SHAPEFILE_NAMES = {
    "hazard_class": "haz_class",
    "device_categories": "devices",
    "beneficiaries": "benefic",
    "organisation_id": "org_id",
    "expected_clearance_share": "clear_shr",
}

Coords = list[Any]


@dataclass(frozen=True)
class Geom:
    """Geometry as written to a file: a GeoJSON type and its coordinates, exactly as they go in (maybe broken)."""

    type: str
    coordinates: Coords

    def geojson(self) -> dict[str, Any]:
        return {"type": self.type, "coordinates": self.coordinates}


@dataclass(frozen=True)
class Feature:
    """One feature of the file and what sapper must do with it."""

    index: int  # 1-based position in the file
    id: str | None
    kind: str
    outcome: str  # "imported", "repaired" or "rejected"
    reason: str  # a fragment of the reason sapper must give (repaired or rejected); "" when imported
    properties: dict[str, Any]
    geometry: Geom | None
    expected: BaseGeometry | None = None  # what the store must hold (2D WGS84), built by hand


@dataclass(frozen=True)
class MessyRegister:
    """The features of a messy file, in file order."""

    fmt: str
    features: list[Feature]
    seed: int

    def by_outcome(self, outcome: str) -> list[Feature]:
        return [f for f in self.features if f.outcome == outcome]

    @property
    def stored(self) -> list[Feature]:
        """Features sapper must store: imported as they are, or repaired."""
        return [f for f in self.features if f.outcome in ("imported", "repaired")]

    def kinds(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.features:
            out[f.kind] = out.get(f.kind, 0) + 1
        return dict(sorted(out.items()))


# ----------------------------------------------------------------------------------------------------
# Independent measures
# ----------------------------------------------------------------------------------------------------


def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area on the WGS84 ellipsoid (pyproj's Geod, geodesic edges), holes subtracted: no sapper code involved."""
    oriented = shapely.orient_polygons(geom, exterior_cw=False)  # Geod: counter-clockwise shells are positive
    area, _ = _GEOD.geometry_area_perimeter(oriented)
    return float(area)


# ----------------------------------------------------------------------------------------------------
# Shapes
# ----------------------------------------------------------------------------------------------------


#: Decimals of every coordinate written (about 1 mm), as GIS exports usually round them.
DECIMALS = 8


def _fix(points: Any) -> np.ndarray:
    """Coordinates as written: a float array rounded to :data:`DECIMALS`."""
    return np.round(np.asarray(points, dtype=float), DECIMALS)


def _closed(points: np.ndarray) -> np.ndarray:
    return np.vstack((points, points[:1]))


def _rect(x0: float, y0: float, w: float, h: float) -> np.ndarray:
    return _fix([(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)])


def _star(rng: np.random.Generator, cx: float, cy: float, radius: float, n: int) -> np.ndarray:
    """A simple polygon, star-shaped around (cx, cy): angles increase and no gap between them reaches pi."""
    angles = (np.arange(n) + rng.uniform(0.1, 0.9, n)) * (2.0 * math.pi / n)
    radii = radius * rng.uniform(0.6, 1.0, n)
    aspect = 1.0 / math.cos(math.radians(cy))  # roughly round on the ground
    return _fix(np.column_stack((cx + radii * np.cos(angles) * aspect, cy + radii * np.sin(angles))))


def big_boundary(rng: np.random.Generator, cx: float, cy: float, radius: float, n: int) -> np.ndarray:
    """``n`` vertices of a smooth, irregular closed boundary (a digitised field edge): low-frequency wobble plus
    sub-metre jitter. Returned open (first vertex not repeated), counter-clockwise."""
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    k = np.arange(1, 24)
    amp = rng.normal(0.0, 1.0, len(k)) / k
    phase = rng.uniform(0.0, 2.0 * math.pi, len(k))
    wobble = (amp[:, None] * np.cos(k[:, None] * t[None, :] + phase[:, None])).sum(axis=0)
    r = radius * (1.0 + 0.25 * wobble / np.abs(wobble).max())
    r = r * (1.0 + 2e-5 * rng.random(n))
    aspect = 1.0 / math.cos(math.radians(cy))
    return _fix(np.column_stack((cx + r * np.cos(t) * aspect, cy + r * np.sin(t))))


def big_polygon(rng: np.random.Generator, cx: float, cy: float, n: int = BIG_VERTICES) -> tuple[Geom, Polygon]:
    """A valid polygon of ``n`` distinct vertices (n + 1 with the closing one), about 8 km across."""
    ring = _closed(big_boundary(rng, cx, cy, 0.04, n))
    return Geom("Polygon", [ring.tolist()]), Polygon(ring)


def big_bow_tie(rng: np.random.Generator, cx: float, cy: float, n: int = BIG_VERTICES) -> tuple[Geom, MultiPolygon]:
    """A bow-tie of ``n`` vertices: the rectangle's left and right sides are long wobbly arcs, and the ring runs
    corner to opposite corner, so the two diagonals cross at the centre. Repaired, it is the two lobes, each
    bounded by its arc and the two half-diagonals."""
    w, h = 0.06, 0.04
    a, b, c, d = _fix([(cx - w / 2, cy - h / 2), (cx + w / 2, cy + h / 2), (cx + w / 2, cy - h / 2),
                       (cx - w / 2, cy + h / 2)])
    x0, y0 = a
    x1, y1 = b
    s = np.linspace(0.0, 1.0, n // 2)[1:-1]
    bulge = 0.3 * w * np.sin(math.pi * s) * (1.0 + 0.05 * np.sin(37.0 * math.pi * s)) + 1e-6 * rng.random(len(s))
    right = _fix(np.column_stack((x1 + bulge, y1 - s * (y1 - y0))))  # from B down to C
    left = _fix(np.column_stack((x0 - bulge, y1 - s * (y1 - y0))))  # from D down to A
    # A → B (diagonal), B ↓ C (right arc), C → D (the other diagonal), D ↓ A (left arc), back to A
    ring = np.vstack(([a, b], right, [c, d], left, [a]))
    m = ((x0 + x1) / 2, (y0 + y1) / 2)
    right_lobe = Polygon(np.vstack(([m, b], right, [c, m])))
    left_lobe = Polygon(np.vstack(([m, d], left, [a, m])))
    return Geom("Polygon", [ring.tolist()]), MultiPolygon([right_lobe, left_lobe])


# ----------------------------------------------------------------------------------------------------
# The register
# ----------------------------------------------------------------------------------------------------

#: Broken kinds and their share of the features (the rest are valid), by format that can hold them.
KINDS: dict[str, tuple[float, tuple[str, ...]]] = {
    "bow_tie": (0.08, ("geojson", "gpkg", "shp")),
    "spike": (0.03, ("geojson", "gpkg", "shp")),
    "overlapping_parts": (0.02, ("geojson", "gpkg", "shp")),
    "null": (0.04, ("geojson", "gpkg", "shp")),
    "empty": (0.03, ("geojson", "gpkg", "shp")),
    "unclosed": (0.03, ("geojson", "gpkg", "shp")),
    "collapsed": (0.02, ("geojson", "gpkg", "shp")),
    "not_polygon": (0.02, ("geojson", "gpkg")),
    "nonfinite": (0.01, ("gpkg",)),
    "duplicate_id": (0.04, ("geojson", "gpkg", "shp")),
    "duplicate_geometry": (0.03, ("geojson", "gpkg", "shp")),
    "wrong_crs": (0.04, ("geojson", "gpkg", "shp")),
    "bad_attributes": (0.06, ("geojson", "gpkg", "shp")),
    "no_id": (0.01, ("geojson", "gpkg", "shp")),
}
FORMATS = ("geojson", "gpkg", "shp")

_NAMES = ("Поле біля Сум", "Лісосмуга", "Field near Sudzha", "Berezhok", "Луг", "Orchard 7", "Балка", "")
_LAND_USES = ("agricultural", "forest", "residential", "infrastructure", "wetland", "other")
_DEVICES = ("ap_mine", "at_mine", "erw_uxo", "cluster_submunition", "ied_booby_trap")


@dataclass
class _Builder:
    fmt: str
    rng: np.random.Generator  # arrays
    r: random.Random  # single values (much faster one at a time)
    features: list[Feature] = field(default_factory=list)
    serial: int = 0
    #: Stored-to-be features whose id or geometry later features may copy.
    originals: list[Feature] = field(default_factory=list)

    def next_id(self) -> str:
        self.serial += 1
        return f"HA-{self.serial:06d}"

    def place(self) -> tuple[float, float]:
        lon0, lat0, lon1, lat1 = REGION
        return self.r.uniform(lon0, lon1), self.r.uniform(lat0, lat1)

    def size(self) -> float:
        return self.r.uniform(0.0008, 0.02)  # ~60 m to ~1.4 km

    def properties(self, fid: str | None, *, loose: bool = False) -> dict[str, Any]:
        r = self.r
        cls = "CHA" if r.random() < 0.3 else "SHA"
        props: dict[str, Any] = {
            "id": fid,
            "name": r.choice(_NAMES),
            "hazard_class": cls,
            "land_use": r.choice(_LAND_USES),
            "device_categories": ",".join(sorted(r.sample(_DEVICES, r.randrange(3)))),
            "beneficiaries": r.randrange(5000),
            "expected_clearance_share": None if r.random() < 0.7 else round(r.uniform(0, 1), 3),
            "synthetic": True,
        }
        if loose:  # spellings a person types, which sapper accepts
            props["hazard_class"] = {"SHA": " sha", "CHA": "Cha "}[cls]
            props["land_use"] = props["land_use"].capitalize()
            if self.fmt == "geojson":
                props["device_categories"] = props["device_categories"].replace(",", "; ").replace("_", " ")
        return props

    def add(self, kind: str, outcome: str, reason: str, props: dict[str, Any], geom: Geom | None,
            expected: BaseGeometry | None = None) -> Feature:
        feat = Feature(len(self.features) + 1, props.get("id"), kind, outcome, reason, props, geom, expected)
        self.features.append(feat)
        if kind in ("valid", "bow_tie"):
            self.originals.append(feat)
        return feat

    # -- valid ------------------------------------------------------------------------------------

    def valid(self) -> None:
        rng = self.rng
        lon, lat = self.place()
        size = self.size()
        shape = self.r.random()
        z = self.fmt != "shp" and self.r.random() < 0.05
        if shape < 0.7:
            pts = _star(rng, lon, lat, size, self.r.randrange(4, 40))
            geom = Geom("Polygon", [_closed(pts).tolist()])
            expected: BaseGeometry = Polygon(pts)
        elif shape < 0.85:  # a square with a hole
            outer = _rect(lon, lat, size, size)
            inner = _rect(lon + size / 4, lat + size / 4, size / 2, size / 2)[::-1]
            geom = Geom("Polygon", [_closed(outer).tolist(), _closed(inner).tolist()])
            expected = Polygon(outer, [inner])
        else:  # two separate parts
            a, b = _rect(lon, lat, size, size), _rect(lon + 2 * size, lat, size, size)
            geom = Geom("MultiPolygon", [[_closed(a).tolist()], [_closed(b).tolist()]])
            expected = MultiPolygon([Polygon(a), Polygon(b)])
        if z:
            geom = _with_z(geom, self.r.uniform(100, 250))
        self.add("valid", "imported", "", self.properties(self.next_id(), loose=self.r.random() < 0.1), geom, expected)

    # -- repairable -------------------------------------------------------------------------------

    def bow_tie(self) -> None:
        lon, lat = self.place()
        w, h = self.size(), self.size()
        a, c, b, d = _rect(lon, lat, w, h)  # corners: lower left, lower right, upper right, upper left
        m = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        expected = MultiPolygon([Polygon([m, b, c]), Polygon([m, d, a])])
        self.add("bow_tie", "repaired", "Self-intersection", self.properties(self.next_id()),
                 Geom("Polygon", [_closed(np.array([a, b, c, d])).tolist()]), expected)

    def spike(self) -> None:
        lon, lat = self.place()
        s = self.size()
        square = _rect(lon, lat, s, s)
        (x0, y0), _, (x1, y1), _ = square
        xm = float(_fix((x0 + x1) / 2))
        tip = float(_fix(y1 + s / 2))
        pts = np.array([(x0, y0), (x1, y0), (x1, y1), (xm, y1), (xm, tip), (xm, y1), (x0, y1)])
        # Repaired: the square, with the spike's foot still a vertex of its top edge. (It matters on the ellipsoid:
        # an edge along a parallel is not a geodesic, so the extra vertex changes the geodesic area by ~1e-5.)
        expected = Polygon([(x0, y0), (x1, y0), (x1, y1), (xm, y1), (x0, y1)])
        self.add("spike", "repaired", "Self-intersection", self.properties(self.next_id()),
                 Geom("Polygon", [_closed(pts).tolist()]), expected)

    def overlapping_parts(self) -> None:
        """Two overlapping squares given as a MultiPolygon: the repair must keep the land both cover (a union),
        not cancel the overlap out."""
        lon, lat = self.place()
        s = self.size()
        a, b = _rect(lon, lat, s, s), _rect(lon + s / 2, lat + s / 2, s, s)
        (ax0, ay0), _, (ax1, ay1), _ = a
        (bx0, by0), _, (bx1, by1), _ = b
        expected = Polygon([(ax0, ay0), (ax1, ay0), (ax1, by0), (bx1, by0), (bx1, by1), (bx0, by1), (bx0, ay1),
                            (ax0, ay1)])
        self.add("overlapping_parts", "repaired", "Self-intersection", self.properties(self.next_id()),
                 Geom("MultiPolygon", [[_closed(a).tolist()], [_closed(b).tolist()]]), expected)

    # -- rejected ---------------------------------------------------------------------------------

    def reject(self, kind: str, reason: str, geom: Geom | None, props: dict[str, Any] | None = None) -> None:
        self.add(kind, "rejected", reason, props if props is not None else self.properties(self.next_id()), geom)

    def square(self) -> Geom:
        lon, lat = self.place()
        return Geom("Polygon", [_closed(_rect(lon, lat, self.size(), self.size())).tolist()])

    def broken(self, kind: str) -> None:
        lon, lat = self.place()
        s = self.size()
        if kind == "null":
            self.reject(kind, "geometry is null", None)
        elif kind == "empty":
            # A Shapefile has no empty polygon: GDAL writes a null shape.
            self.reject(kind, "geometry is null" if self.fmt == "shp" else "geometry is empty", Geom("Polygon", []))
        elif kind == "unclosed":
            self.reject(kind, "closed", Geom("Polygon", [_rect(lon, lat, s, s).tolist()]))
        elif kind == "collapsed":
            if self.r.random() < 0.5:  # a ring of three points: first, second, first
                ring = _fix([[lon, lat], [lon + s, lat], [lon, lat]])
            else:  # every vertex on one line
                ring = _fix([[lon, lat], [lon + s, lat], [lon + 2 * s, lat], [lon, lat]])
            self.reject(kind, "no polygon remains after repair", Geom("Polygon", [ring.tolist()]))
        elif kind == "not_polygon":
            if self.r.random() < 0.5:
                self.reject(kind, "geometry must be a polygon, got Point", Geom("Point", _fix([lon, lat]).tolist()))
            else:
                self.reject(kind, "geometry must be a polygon, got LineString",
                            Geom("LineString", _fix([[lon, lat], [lon + s, lat + s]]).tolist()))
        elif kind == "nonfinite":
            ring = _closed(_rect(lon, lat, s, s))
            ring[2, 0] = math.nan
            self.reject(kind, "coordinates are not finite numbers", Geom("Polygon", [ring.tolist()]))
        elif kind == "wrong_crs":  # UTM 36N metres in a file that says EPSG:4326
            x, y = _TO_UTM36.transform(lon, lat)
            metres = s * 70_000
            self.reject(kind, "coordinates are not WGS84 lon/lat",
                        Geom("Polygon", [_closed(_rect(float(x), float(y), metres, metres)).tolist()]))
        elif kind == "duplicate_id" and self.originals:
            first = self.originals[self.r.randrange(len(self.originals))]
            self.reject(kind, f"id {first.id} appears earlier in the file (feature {first.index})", self.square(),
                        self.properties(first.id))
        elif kind == "duplicate_geometry" and self.originals:
            first = self.originals[self.r.randrange(len(self.originals))]
            assert first.geometry is not None
            self.reject(kind, f"same geometry as feature {first.index} (id {first.id})", first.geometry)
        elif kind == "bad_attributes":
            props = self.properties(self.next_id())
            which = self.r.randrange(5)
            if which == 0:
                props["hazard_class"] = "XHA"
                reason = "hazard_class 'XHA' is not one of SHA, CHA"
            elif which == 1:
                props["hazard_class"] = None
                reason = "hazard_class is empty"
            elif which == 2:
                props["hazard_class"], props["evidence"] = "CHA", "indirect"
                reason = "a CHA needs direct evidence"
            elif which == 3:
                props["beneficiaries"] = -self.r.randrange(1, 100)
                reason = "beneficiaries cannot be negative"
            else:
                props["expected_clearance_share"] = 1.5
                reason = "expected clearance share must be in [0, 1], got 1.5"
            self.reject(kind, reason, self.square(), props)
        elif kind == "no_id":
            self.reject(kind, "id is empty", self.square(), self.properties(None))
        else:
            self.valid()


def _with_z(geom: Geom, z: float) -> Geom:
    def lift(c: Any) -> Any:
        if c and isinstance(c[0], float | int):
            return [*c, z]
        return [lift(x) for x in c]

    return Geom(geom.type, lift(geom.coordinates))


def messy_register(fmt: str, n: int = 10_000, *, seed: int = 2025, big: int = 3,
                   big_vertices: int = BIG_VERTICES) -> MessyRegister:
    """``n`` hazard features (plus ``big`` very large polygons) for format ``fmt``, drawn with ``seed``.

    About 40 % are broken (the shares in :data:`KINDS`, for the kinds the format can hold); of the big polygons,
    the first, third, … are valid and the second, fourth, … bow-ties with wobbly sides, to be repaired into their
    two lobes.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {FORMATS}")
    rng = np.random.default_rng(seed)
    builder = _Builder(fmt, rng, random.Random(seed))
    kinds = [k for k, (_, formats) in KINDS.items() if fmt in formats]
    shares = np.array([KINDS[k][0] for k in kinds])
    draws = rng.choice(len(kinds) + 1, size=n, p=[*shares, 1.0 - shares.sum()])
    big_at = set(rng.choice(np.arange(n // 10, n), size=big, replace=False).tolist()) if big else set()
    for i, draw in enumerate(draws):
        if i in big_at:
            j = len([b for b in big_at if b < i])
            lon, lat = builder.place()
            if j % 2 == 1:
                geom, lobes = big_bow_tie(rng, lon, lat, big_vertices)
                builder.add("big_bow_tie", "repaired", "Self-intersection", builder.properties(builder.next_id()),
                            geom, lobes)
            else:
                geom, poly = big_polygon(rng, lon, lat, big_vertices)
                builder.add("big", "imported", "", builder.properties(builder.next_id()), geom, poly)
            continue
        kind = kinds[draw] if draw < len(kinds) else "valid"
        if kind == "valid":
            builder.valid()
        elif kind in ("bow_tie", "spike", "overlapping_parts"):
            getattr(builder, kind)()
        else:
            builder.broken(kind)
    return MessyRegister(fmt, builder.features, seed)


# ----------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------

_WKB_TYPES = {"Point": 1, "LineString": 2, "Polygon": 3, "MultiPolygon": 6}


def _has_z(coords: Any) -> bool:
    while coords and isinstance(coords, list) and isinstance(coords[0], list):
        coords = coords[0]
    return bool(coords) and len(coords) == 3


def _points(coords: Sequence[Sequence[float]], dims: int) -> bytes:
    arr = np.asarray(coords, dtype="<f8").reshape(-1, dims)
    return struct.pack("<I", len(arr)) + arr.tobytes()


def wkb(geom: Geom) -> bytes:
    """ISO WKB of ``geom`` exactly as given (an unclosed ring stays unclosed; NaN stays NaN)."""
    z = _has_z(geom.coordinates)
    dims = 3 if z else 2
    code = _WKB_TYPES[geom.type] + (1000 if z else 0)
    head = struct.pack("<BI", 1, code)
    c = geom.coordinates
    if geom.type == "Point":
        return head + np.asarray(c, dtype="<f8").tobytes()
    if geom.type == "LineString":
        return head + _points(c, dims)
    if geom.type == "Polygon":
        return head + struct.pack("<I", len(c)) + b"".join(_points(r, dims) for r in c)
    parts = [wkb(Geom("Polygon", p)) for p in c]
    return head + struct.pack("<I", len(parts)) + b"".join(parts)


_COLUMNS = ("id", "name", "hazard_class", "evidence", "device_categories", "land_use", "beneficiaries",
            "organisation_id", "expected_clearance_share", "synthetic")


def write_messy(register: MessyRegister, path: Path) -> Path:
    """Write ``register`` in its format: ``.geojson`` text, ``.gpkg``, or a zipped Shapefile (``.shp.zip``)."""
    if register.fmt == "geojson":
        doc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {k: v for k, v in f.properties.items() if v is not None or k == "id"},
             "geometry": None if f.geometry is None else f.geometry.geojson()} for f in register.features]}
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        return path
    feats = register.features
    geoms = np.array([None if f.geometry is None else wkb(f.geometry) for f in feats], dtype=object)

    def text(col: str) -> np.ndarray:
        return np.array([None if f.properties.get(col) is None else str(f.properties[col]) for f in feats],
                        dtype=object)

    data = [
        text("id"),
        text("name"),
        text("hazard_class"),
        text("evidence"),
        text("device_categories"),
        text("land_use"),
        np.array([int(f.properties["beneficiaries"]) for f in feats], dtype="int64"),
        text("organisation_id"),
        np.array([math.nan if f.properties.get("expected_clearance_share") is None
                  else float(f.properties["expected_clearance_share"]) for f in feats], dtype="float64"),
        np.array([bool(f.properties["synthetic"]) for f in feats], dtype=bool),
    ]
    names = list(_COLUMNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's notes on NaN coordinates and unclosed rings
        if register.fmt == "gpkg":
            pyogrio.raw.write(path, geoms, data, names, layer="hazard_areas", driver="GPKG", crs="EPSG:4326",
                              geometry_type="Unknown")
            return path
        short = [SHAPEFILE_NAMES.get(c, c) for c in names]
        with tempfile.TemporaryDirectory() as tmp:
            shp = Path(tmp) / "hazard_areas.shp"
            pyogrio.raw.write(shp, geoms, data, short, driver="ESRI Shapefile", crs="EPSG:4326",
                              geometry_type="MultiPolygon", encoding="UTF-8")
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
                for part in sorted(Path(tmp).iterdir()):
                    z.write(part, part.name)
    return path

