"""``crscheck.all_fit`` (a clean file's CRS checks made on every feature at once) agrees with ``crs_faults`` (feature
by feature, with the reasons): it says a file fits exactly when no feature has a fault."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS

from sapper.io.crscheck import all_fit, crs_faults
from sapper.io.files import to_wgs84

UTM37 = CRS.from_epsg(32637)
WGS84 = CRS.from_epsg(4326)


def _boxes(centres: list[tuple[float, float]], size: float) -> list[shapely.Geometry]:
    return [shapely.box(x, y, x + size, y + size) for x, y in centres]


def _utm(n: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(3)
    return list(zip(rng.uniform(400_000, 460_000, n), rng.uniform(5_650_000, 5_700_000, n), strict=True))


def _lonlat(n: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(4)
    return list(zip(rng.uniform(35.0, 36.5, n), rng.uniform(50.5, 51.5, n), strict=True))


CASES = {
    "utm, clean": (_boxes(_utm(30), 200), UTM37),
    "utm, one in degrees": (_boxes([*_utm(29), (36.0, 51.0)], 0.001), UTM37),
    "utm, one outside the zone": (_boxes([*_utm(29), (2_000_000.0, 5_650_000.0)], 200), UTM37),
    "wgs84, clean": (_boxes(_lonlat(30), 0.001), WGS84),
    "wgs84, one in metres": (_boxes([*_lonlat(29), (430_000.0, 5_660_000.0)], 0.001), WGS84),
    "wgs84, one swapped": (_boxes([*_lonlat(29), (51.0, 35.8)], 0.001), WGS84),
    "wgs84, one latitude beyond 90": (_boxes([*_lonlat(29), (51.0, 135.0)], 0.001), WGS84),
    "utm, with a null": ([*_boxes(_utm(29), 200), None], UTM37),
}


@pytest.mark.parametrize("name", list(CASES))
def test_all_fit_is_no_fault_from_crs_faults(name: str) -> None:
    geoms, crs = CASES[name]
    wgs84 = to_wgs84(geoms, crs)
    faults = crs_faults(geoms, wgs84, crs)
    assert all_fit(geoms, wgs84, crs) == all(f is None for f in faults)
    assert all_fit(geoms, wgs84, crs) == name.endswith(("clean", "null"))
