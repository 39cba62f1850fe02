"""OGC API – Features Part 2: the coordinate reference systems the service speaks, and transforming to them.

Storage is WGS84 longitude/latitude (CRS84). ``EPSG:4326`` is answered in its authority axis order, latitude
first; ``EPSG:3857`` and the region's UTM zones (36N and 37N) in easting, northing.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from sapper.errors import Fault, ValidationError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"

#: Supported CRS URIs and the pyproj name of each.
SUPPORTED: dict[str, str] = {
    CRS84: "OGC:CRS84",
    _EPSG + "4326": "EPSG:4326",
    _EPSG + "3857": "EPSG:3857",
    _EPSG + "32636": "EPSG:32636",
    _EPSG + "32637": "EPSG:32637",
}


class CRSParamError(ValidationError):
    """A ``crs`` or ``bbox-crs`` the service does not offer (HTTP 400)."""

    code = "invalid_crs"
    http_status = 400


def check(uri: str | None, param: str) -> str:
    """The CRS URI asked for (CRS84 when None); CRSParamError naming ``param`` when not offered."""
    if uri is None or uri == "":
        return CRS84
    if uri not in SUPPORTED:
        raise CRSParamError(param, [Fault(param, f"{uri} is not offered (offered: {', '.join(SUPPORTED)})", param)])
    return uri


@lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> Transformer:
    # Not always_xy: EPSG:4326 must come out latitude first, as its definition says.
    return Transformer.from_crs(SUPPORTED[source], SUPPORTED[target])


def from_crs84(geom: BaseGeometry, uri: str) -> BaseGeometry:
    """``geom`` (CRS84) in the CRS ``uri``."""
    if uri == CRS84 or geom.is_empty:
        return geom
    tr = _transformer(CRS84, uri)

    def move(xy: np.ndarray) -> np.ndarray:
        a, b = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([a, b])

    return shapely.transform(geom, move)


def bbox_to_crs84(bbox: tuple[float, float, float, float], uri: str) -> tuple[float, float, float, float]:
    """A bbox given in the CRS ``uri`` (in that CRS's axis order) as a CRS84 bbox enclosing it."""
    if uri == CRS84:
        return bbox
    tr = _transformer(uri, CRS84)
    minx, miny, maxx, maxy = tr.transform_bounds(*bbox, densify_pts=21)
    return float(minx), float(miny), float(maxx), float(maxy)


def to_crs84(geom: BaseGeometry, uri: str) -> BaseGeometry:
    """``geom`` given in the CRS ``uri`` (its axis order: EPSG:4326 latitude first) in CRS84."""
    if uri == CRS84 or geom.is_empty:
        return geom
    tr = _transformer(uri, CRS84)

    def move(xy: np.ndarray) -> np.ndarray:
        a, b = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([a, b])

    return shapely.transform(geom, move)


def content_crs(header: str | None) -> str:
    """The CRS of a request body from its ``Content-Crs`` header (``<uri>`` or a bare URI; CRS84 when absent)."""
    if header is None:
        return CRS84
    return check(header.strip().removeprefix("<").removesuffix(">").strip(), "Content-Crs")
