"""Areas: one equal-area function for the domain, the store and the files."""

from __future__ import annotations

import pytest
import shapely
from pyproj import Geod

from sapper.domain.geometry import LocalProjection, area_m2
from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.io.vector import hazards_frame

GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize(("lon", "lat"), [(35.2, 51.3), (-70.7, -33.4), (139.7, 35.7), (24.0, 68.9), (0.0, 0.0)])
def test_area_is_the_ellipsoidal_area(lon: float, lat: float) -> None:
    """A field-sized polygon's area agrees with the geodesic area on the WGS84 ellipsoid and with a projection
    centred exactly on it (equal-area: the centre changes the area only by PROJ's rounding, ~1e-9)."""
    poly = shapely.Polygon([(lon, lat), (lon + 0.004, lat + 0.001), (lon + 0.003, lat + 0.005),
                            (lon - 0.001, lat + 0.003)])
    geodesic = abs(GEOD.geometry_area_perimeter(poly)[0])
    centred = LocalProjection.around(poly).area_m2(poly)
    assert area_m2(poly) == pytest.approx(geodesic, rel=1e-6)
    assert area_m2(poly) == pytest.approx(centred, rel=1e-8)


def test_empty_geometry_has_no_area() -> None:
    """An empty geometry measures 0 m²."""
    assert area_m2(shapely.Polygon()) == 0.0


def test_exported_area_column_is_the_domain_area() -> None:
    """The area_m2 column written to files is HazardArea.area_m2, exactly."""
    hazards = [HazardArea(f"H-{i}", HazardClass.SHA, shapely.box(30 + i * 7.3, 40 + i * 3.1, 30.2 + i * 7.3,
                                                                  40.1 + i * 3.1), Evidence.INDIRECT)
               for i in range(5)]
    frame, _ = hazards_frame(hazards)
    assert list(frame["area_m2"]) == [h.area_m2 for h in hazards]
