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
  within it; or a feature more than :data:`SWAP_FAR_DEG` from where most of the file's features are which, swapped,
  would lie among them: rejected, "swap the columns". (A file swapped as a whole, every value within range, cannot be
  told from a file of another region: the area-of-use check catches it only for a CRS of limited extent.)
* **outside the CRS's area of use** (pyproj ``CRS.area_of_use``, widened by :data:`AREA_MARGIN_DEG` because data
  a little beyond a UTM zone's edge is common and fine): rejected, naming the area.

Each rejection is a reason for that feature; the others are imported.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import CRS
from pyproj._crs import AreaOfUse
from shapely.geometry.base import BaseGeometry

#: How far beyond a CRS's published area of use (degrees) a feature may lie before it is refused.
AREA_MARGIN_DEG = 2.0
#: How far (degrees) a feature's centre must be from the file's median centre to be checked for swapped axes.
SWAP_FAR_DEG = 5.0
#: How far beyond the box of the file's other features a swapped feature may fall and still be among them.
SWAP_NEAR_DEG = 0.5
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


def _area_fault(w: np.ndarray, crs: CRS, area: AreaOfUse | None) -> str | None:
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


def _bounds(source: Sequence[BaseGeometry | None], wgs84: Sequence[BaseGeometry | None]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each feature's bounds as the file wrote it and reprojected (NaN for none), and which have usable bounds."""
    src = np.empty(len(source), dtype=object)
    src[:] = list(source)
    out = np.empty(len(wgs84), dtype=object)
    out[:] = list(wgs84)
    with np.errstate(invalid="ignore"):
        src_bounds = shapely.bounds(src)
        out_bounds = shapely.bounds(out)
    return src_bounds, out_bounds, np.isfinite(src_bounds).all(axis=1)


def crs_faults(
    source: Sequence[BaseGeometry | None], wgs84: Sequence[BaseGeometry | None], crs: CRS
) -> list[str | None]:
    """Why each feature cannot be in ``crs`` (None when it fits, or has no usable geometry: that is said elsewhere).

    ``source`` holds the geometries as the file wrote them, ``wgs84`` the same reprojected from ``crs``."""
    src_bounds, out_bounds, usable = _bounds(source, wgs84)
    geographic = bool(crs.is_geographic)
    swapped = _swap_faults(out_bounds, usable) if geographic else [None] * len(out_bounds)
    area = crs.area_of_use  # a new object at each call: asked once, not per feature
    faults: list[str | None] = []
    for ok, b, w, swap in zip(usable, src_bounds, out_bounds, swapped, strict=True):
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
        faults.append(fault or _area_fault(w, crs, area) or swap)
    return faults


def all_fit(source: Sequence[BaseGeometry | None], wgs84: Sequence[BaseGeometry | None], crs: CRS) -> bool:
    """True when :func:`crs_faults` finds no fault in any feature, the same checks made on every feature at once (a
    clean file's 100,000 features in a few array operations rather than a Python step each); False when some
    feature has one (then :func:`crs_faults` says which and why)."""
    src_bounds, out_bounds, usable = _bounds(source, wgs84)
    b, w = src_bounds[usable], out_bounds[usable]
    in_degrees = (b[:, 0] >= -180) & (b[:, 2] <= 180) & (b[:, 1] >= -90) & (b[:, 3] <= 90)
    if crs.is_geographic:
        if not in_degrees.all() or any(f is not None for f in _swap_faults(out_bounds, usable)):
            return False
    elif in_degrees.any():
        return False
    area = crs.area_of_use
    if area is None:
        return True
    if not np.isfinite(w).all():
        return False
    m = AREA_MARGIN_DEG
    inside = (area.south - m <= w[:, 1]) & (w[:, 3] <= area.north + m)
    if not area.west > area.east:  # not across the antimeridian: longitude too
        inside &= (area.west - m <= w[:, 0]) & (w[:, 2] <= area.east + m)
    return bool(inside.all())


def _swap_faults(bounds: np.ndarray, usable: np.ndarray) -> list[str | None]:
    """For each feature far from most of the file's (its centre more than :data:`SWAP_FAR_DEG` from the median
    centre) whose swapped centre falls among them (within the box of the others, widened by :data:`SWAP_NEAR_DEG`):
    the reason; None for the others. Nothing is said unless most features are near one another."""
    out: list[str | None] = [None] * len(bounds)
    with np.errstate(invalid="ignore"):
        x = (bounds[:, 0] + bounds[:, 2]) / 2
        y = (bounds[:, 1] + bounds[:, 3]) / 2
        ok = usable & np.isfinite(x) & np.isfinite(y) & (np.abs(y) <= 90) & (np.abs(x) <= 180)
    if ok.sum() < 3:
        return out
    mx, my = float(np.median(x[ok])), float(np.median(y[ok]))
    far = ok & (np.hypot(x - mx, y - my) > SWAP_FAR_DEG)
    near = ok & ~far
    if near.sum() <= ok.sum() / 2 or not far.any():
        return out
    m = SWAP_NEAR_DEG
    west, east = x[near].min() - m, x[near].max() + m
    south, north = y[near].min() - m, y[near].max() + m
    for i in np.flatnonzero(far):
        sx, sy = y[i], x[i]
        if west <= sx <= east and south <= sy <= north:
            out[i] = (f"longitude and latitude look swapped: as written it lies at longitude {x[i]:.6g}, latitude "
                      f"{y[i]:.6g}, far from the file's other features (around longitude {mx:.6g}, latitude {my:.6g}); "
                      "swapped it would lie among them: swap the two columns (x is the longitude)")
    return out
