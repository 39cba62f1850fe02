"""Geometry rules: WGS84 for storage and exchange, an equal-area projection for every area and distance.

Areas are computed in a Lambert azimuthal equal-area projection centred on the data (exact for areas, and distances
within a few hundred kilometres of the centre are off by well under 1 %). Geometry is stored as WGS84 lon/lat.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = CRS.from_epsg(4326)
WGS84_SRS_ID = 4326


@dataclass(frozen=True)
class LocalProjection:
    """An equal-area projection centred on (``lon``, ``lat``), with transforms to and from WGS84."""

    lon: float
    lat: float
    _cache: dict[str, Transformer] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def crs(self) -> CRS:
        return CRS.from_proj4(
            f"+proj=laea +lat_0={self.lat:.6f} +lon_0={self.lon:.6f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )

    @cached_property
    def _forward(self) -> Transformer:
        # The pipeline PROJ builds for WGS84 (lon/lat) → this projection, written out: the same figures to the bit
        # (tests/domain/test_geometry_bulk.py), built without PROJ's database search (about 5 × faster: a bulk
        # import across a region builds dozens of them).
        return Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=laea +lat_0={self.lat:.6f} +lon_0={self.lon:.6f} +x_0=0 +y_0=0 +ellps=WGS84"
        )

    @cached_property
    def _inverse(self) -> Transformer:
        return Transformer.from_crs(self.crs, WGS84, always_xy=True)

    def to_local(self, geom: BaseGeometry) -> BaseGeometry:
        """WGS84 lon/lat geometry → metres in this projection."""
        return shapely.transform(geom, lambda xy: _stack(self._forward.transform(xy[:, 0], xy[:, 1])))

    def to_wgs84(self, geom: BaseGeometry) -> BaseGeometry:
        """Metres in this projection → WGS84 lon/lat geometry."""
        return shapely.transform(geom, lambda xy: _stack(self._inverse.transform(xy[:, 0], xy[:, 1])))

    def area_m2(self, geom: BaseGeometry) -> float:
        return float(self.to_local(geom).area)

    @classmethod
    def around(cls, geom: BaseGeometry) -> LocalProjection:
        """The projection centred on the centre of ``geom``'s bounding box (WGS84)."""
        minx, miny, maxx, maxy = geom.bounds
        return cls(lon=(minx + maxx) / 2.0, lat=(miny + maxy) / 2.0)


def _stack(xy: tuple[object, object]) -> object:
    import numpy as np

    return np.column_stack(xy)  # type: ignore[arg-type]


@lru_cache(maxsize=256)
def _area_projection(lon: float, lat: float) -> LocalProjection:
    return LocalProjection(lon=lon, lat=lat)


def projection_near(geom: BaseGeometry) -> LocalProjection:
    """A shared equal-area projection for work on ``geom`` (areas, overlays), centred on the 0.5° grid near it.

    Areas do not depend on the centre of an equal-area projection, and shapes barely do within a few hundred
    kilometres, so geometries near each other share one projection (building one costs a PROJ pipeline).
    """
    minx, miny, maxx, maxy = geom.bounds
    return _area_projection(round(minx + maxx) / 2, round(miny + maxy) / 2)


def area_m2(geom: BaseGeometry) -> float:
    """Area of a WGS84 geometry in square metres, in an equal-area projection centred near it.

    The projection is equal-area everywhere, so its centre only needs to be near the data; centres are rounded to
    0.5° and their projections reused, which makes the area of thousands of polygons cheap.
    """
    if geom.is_empty:
        return 0.0
    minx, miny, maxx, maxy = geom.bounds
    return _area_projection(round(minx + maxx) / 2, round(miny + maxy) / 2).area_m2(geom)


def areas_m2(geoms: Sequence[BaseGeometry | None]) -> list[float]:
    """:func:`area_m2` of many WGS84 geometries at once (None and empty give 0.0), the same figures to the bit: each
    geometry is projected with the same shared projection :func:`area_m2` chooses, one PROJ call per projection
    rather than per geometry (a bulk import's 100,000 areas in a fraction of a second instead of ten)."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    out = np.zeros(len(arr), dtype=float)
    present = ~shapely.is_missing(arr)
    present[present] = ~shapely.is_empty(arr[present])
    if not present.any():
        return out.tolist()
    idx = np.flatnonzero(present)
    bounds = shapely.bounds(arr[idx])
    keys = np.column_stack((np.round(bounds[:, 0] + bounds[:, 2]) / 2, np.round(bounds[:, 1] + bounds[:, 3]) / 2))
    for key in np.unique(keys, axis=0):
        mine = idx[(keys[:, 0] == key[0]) & (keys[:, 1] == key[1])]
        forward = _area_projection(float(key[0]), float(key[1]))._forward
        local = shapely.transform(arr[mine], lambda xy, f=forward: _stack(f.transform(xy[:, 0], xy[:, 1])))
        out[mine] = shapely.area(local)
    return [float(a) for a in out]


def require_crs(crs: object | None, *, record: str) -> CRS:
    """Return ``crs`` as a pyproj CRS; refuse data that has none (sapper never guesses a CRS)."""
    from sapper.errors import CRSError, Fault
    from sapper.messages import msg

    if crs is None or crs == "":
        raise CRSError(record, [Fault(record, msg("has no coordinate reference system; sapper does not guess "
                                                  "one"))])
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError with an internal message
        raise CRSError(record, [Fault(record, msg("has an unreadable coordinate reference system ({crs!r})",
                                                  crs=crs))]) from exc


#: The most vertices one geometry may have when it is written through the web service: a surveyed hazard polygon has
#: tens to a few thousand; a million-vertex sketch is a mistake or an attack (validity checks and R-tree updates on it
#: cost seconds each).
MAX_VERTICES = 100_000

#: The most vertices one geometry may have in an imported file: a digitised outline from a messy GIS can carry a
#: hundred thousand (the messy-import benchmark imports such polygons, repairing a bow-tie of that size); ten million
#: is refused before it costs memory. Ten times the web service's limit.
MAX_IMPORT_VERTICES = 1_000_000


def require_vertices_at_most(geom: BaseGeometry, limit: int = MAX_VERTICES, *, record: str) -> None:
    """Refuse a geometry with more than ``limit`` vertices (one line naming the record and the count)."""
    from sapper.errors import Fault, ValidationError
    from sapper.messages import msg

    count = int(shapely.get_num_coordinates(geom))
    if count > limit:
        raise ValidationError(record, [Fault(record, msg("the geometry has {count:,} vertices, more than the "
                                                         "{limit:,} allowed", count=count, limit=limit), "geometry")])


#: Validity of geometries still alive, so that a geometry checked on import is not checked again when the record
#: built from it checks itself (for a jagged 100,000-vertex polygon each check costs about a second).
_VALIDITY: weakref.WeakKeyDictionary[BaseGeometry, bool] = weakref.WeakKeyDictionary()


def is_valid(geom: BaseGeometry) -> bool:
    """``geom.is_valid`` (OGC validity), remembered for as long as ``geom`` (or an equal geometry) lives."""
    try:
        return _VALIDITY[geom]
    except KeyError:
        valid = _VALIDITY[geom] = bool(geom.is_valid)
        return valid


def in_wgs84_range(geom: BaseGeometry) -> bool:
    """True when every coordinate is a plausible lon/lat (catches projected data labelled WGS84)."""
    minx, miny, maxx, maxy = geom.bounds
    return bool(-180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0)
