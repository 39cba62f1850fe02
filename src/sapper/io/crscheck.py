"""Does each feature's geometry fit the CRS the file declares? The mistakes people make, caught feature by feature.

A file's CRS is taken as declared (``--crs``, its ``.prj``, its own metadata): sapper never guesses one. But some
declarations are plainly wrong, and a wrong one lands data on the equator or in the ocean without a word, so
each feature is checked against the declared CRS, on its coordinates as written:

* **degrees read as metres**: a projected CRS (metres or feet) whose coordinates all lie within ±180/±90 gives
  sub-square-metre shapes near the CRS's false origin (near 0°, 0° for UTM's equator): rejected, "looks like
  EPSG:4326";
* **metres read as degrees**: a geographic CRS with coordinates beyond ±180/±90: rejected, "looks like a projected
  CRS in metres" (and which, when the numbers have the shape of UTM);
* **longitude and latitude swapped**: a geographic CRS whose "latitude" is beyond ±90 while the "longitude" is
  within it: rejected, "swap the columns";
* **outside the CRS's area of use** (pyproj ``CRS.area_of_use``, widened by :data:`AREA_MARGIN_DEG` because data
  a little beyond a UTM zone's edge is common and fine): rejected, naming the area.

Each rejection is a reason for that feature; the others are imported.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

#: How far beyond a CRS's published area of use (degrees) a feature may lie before it is refused.
AREA_MARGIN_DEG = 2.0
#: The shape of UTM coordinates: easting 100–900 km, northing 0–10,000 km.
_UTM_EASTING = (100_000.0, 900_000.0)
_UTM_NORTHING = (0.0, 10_000_000.0)


def _name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else (crs.name or "the declared CRS")


def _span(b: np.ndarray) -> str:
    return f"x {b[0]:.10g} to {b[2]:.10g}, y {b[1]:.10g} to {b[3]:.10g}"


def _in_degrees(b: np.ndarray) -> bool:
    return bool(b[0] >= -180 and b[2] <= 180 and b[1] >= -90 and b[3] <= 90)


def _looks_utm(b: np.ndarray) -> bool:
    return bool(_UTM_EASTING[0] <= b[0] and b[2] <= _UTM_EASTING[1]
                and _UTM_NORTHING[0] <= b[1] and b[3] <= _UTM_NORTHING[1])


def _geographic_fault(b: np.ndarray, crs: CRS) -> str | None:
    if _in_degrees(b):
        return None
    label = "WGS84" if crs.to_epsg() == 4326 else _name(crs)
    if b[0] >= -90 and b[2] <= 90 and b[1] >= -180 and b[3] <= 180:
        hint = "latitude beyond ±90° where the longitude would fit: longitude and latitude look swapped (x is the " \
               "longitude): swap the two columns"
    elif _looks_utm(b):
        hint = ("projected coordinates, such as metres, in a file whose CRS says degrees? Correct the file's CRS: "
                "looks like UTM, e.g. EPSG:32636 for zone 36N")
    else:
        hint = "projected coordinates, such as metres, in a file whose CRS says degrees? Correct the file's CRS"
    return f"coordinates are not {label} lon/lat ({_span(b)}): {hint}"


def _area_fault(w: np.ndarray, crs: CRS) -> str | None:
    area = crs.area_of_use
    if area is None or not np.isfinite(w).all():
        return None if area is None else f"cannot be placed on the earth from {_name(crs)} (coordinates beyond it)"
    m = AREA_MARGIN_DEG
    if area.west > area.east:  # crosses the antimeridian: checked on latitude only
        inside = area.south - m <= w[1] and w[3] <= area.north + m
    else:
        inside = (area.west - m <= w[0] and w[2] <= area.east + m
                  and area.south - m <= w[1] and w[3] <= area.north + m)
    if inside:
        return None
    return (f"lies outside where {_name(crs)} is used ({area.name}: longitude {area.west:g} to {area.east:g}, "
            f"latitude {area.south:g} to {area.north:g}); read as {_name(crs)} it is at longitude {w[0]:.6g} to "
            f"{w[2]:.6g}, latitude {w[1]:.6g} to {w[3]:.6g}: is the declared CRS the file's?")


def crs_faults(
    source: Sequence[BaseGeometry | None], wgs84: Sequence[BaseGeometry | None], crs: CRS
) -> list[str | None]:
    """Why each feature cannot be in ``crs`` (None when it fits, or has no usable geometry: that is said elsewhere).

    ``source`` holds the geometries as the file wrote them, ``wgs84`` the same reprojected from ``crs``."""
    src = np.empty(len(source), dtype=object)
    src[:] = list(source)
    out = np.empty(len(wgs84), dtype=object)
    out[:] = list(wgs84)
    with np.errstate(invalid="ignore"):
        src_bounds = shapely.bounds(src)
        out_bounds = shapely.bounds(out)
    usable = np.isfinite(src_bounds).all(axis=1)
    geographic = bool(crs.is_geographic)
    faults: list[str | None] = []
    for ok, b, w in zip(usable, src_bounds, out_bounds, strict=True):
        if not ok:
            faults.append(None)
            continue
        if geographic:
            fault = _geographic_fault(b, crs)
        elif _in_degrees(b):
            fault = (f"coordinates look like degrees, not the {crs.axis_info[0].unit_name}s of {_name(crs)} "
                     f"({_span(b)}: read as {_name(crs)} the shape would be under a square metre near its false "
                     "origin): looks like EPSG:4326; declare --crs EPSG:4326")
        else:
            fault = None
        faults.append(fault or _area_fault(w, crs))
    return faults
