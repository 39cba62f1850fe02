"""The bulk forms of the geometry and hazard-area rules give what the one-by-one forms give."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from sapper.domain.geometry import WGS84, LocalProjection, area_m2, areas_m2
from sapper.domain.hazards import Evidence, HazardArea, HazardClass, LandUse, hazards_in_bulk
from sapper.errors import ValidationError


def boxes(n: int, seed: int = 3) -> list[Polygon]:
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(33.0, 40.0, n), rng.uniform(48.0, 53.0, n)
    return [shapely.box(x, y, x + 0.003, y + 0.002) for x, y in zip(lon, lat, strict=True)]


def test_areas_in_bulk_are_the_areas_one_by_one() -> None:
    """``areas_m2`` gives each geometry's ``area_m2`` to the bit, across many projection cells; None and empty 0."""
    geoms = [*boxes(300), None, Polygon()]
    assert areas_m2(geoms) == [area_m2(g) if g is not None else 0.0 for g in geoms]
    assert areas_m2([]) == []


@pytest.mark.parametrize(("lon", "lat"), [(37.5, 51.0), (-71.25, -33.5), (179.5, 0.0), (30.123456, 50.654321)])
def test_the_written_out_pipeline_is_the_one_proj_chooses(lon: float, lat: float) -> None:
    """The forward transform built from its pipeline gives PROJ's own WGS84 → LAEA figures, bit for bit."""
    projection = LocalProjection(lon, lat)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(lon - 2, lon + 2, 1000), rng.uniform(max(lat - 2, -89), min(lat + 2, 89), 1000)
    ours = projection._forward.transform(x, y)
    proj = Transformer.from_crs(WGS84, projection.crs, always_xy=True).transform(x, y)
    assert np.array_equal(ours[0], proj[0]) and np.array_equal(ours[1], proj[1])


def _columns(geoms: list[Polygon], **overrides: list[object]) -> dict[str, list[object]]:
    n = len(geoms)
    columns: dict[str, list[object]] = {
        "id": [f"h-{k}" for k in range(n)],
        "hazard_class": [HazardClass.CHA if k % 2 else HazardClass.SHA for k in range(n)],
        "evidence": [Evidence.DIRECT if k % 2 else Evidence.INDIRECT for k in range(n)],
        "land_use": [LandUse.FOREST] * n,
        "beneficiaries": list(range(n)),
        "expected_clearance_share": [None if k % 3 else 0.5 for k in range(n)],
        "geometry": list(geoms),
    }
    return columns | overrides


def test_hazards_in_bulk_are_the_hazards_one_by_one() -> None:
    """Areas built together equal the areas built (and checked) one by one, defaults included."""
    columns = _columns(boxes(20))
    together = hazards_in_bulk(columns)
    alone = [HazardArea(**dict(zip(columns, row, strict=True))) for row in zip(*columns.values(), strict=True)]  # type: ignore[arg-type]
    assert together == alone
    assert together is not None and together[0].imsma_links == () and together[0].name == ""


@pytest.mark.parametrize("broken", [
    {"hazard_class": [HazardClass.CHA] * 3},  # a CHA with indirect evidence
    {"beneficiaries": [0, -1, 0]},
    {"expected_clearance_share": [None, 1.5, None]},
    {"id": ["a", " ", "c"]},
    {"geometry": [shapely.box(0, 0, 1, 1), Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), shapely.box(2, 2, 3, 3)]},
    {"geometry": [shapely.box(0, 0, 1, 1), Point(0.5, 0.5), shapely.box(2, 2, 3, 3)]},
    {"geometry": [shapely.box(0, 0, 1, 1), shapely.box(500_000, 0, 500_001, 1), shapely.box(2, 2, 3, 3)]},
])
def test_hazards_in_bulk_refuse_what_one_by_one_refuses(broken: dict[str, list[object]]) -> None:
    """Any area that would fail its own check makes the bulk form give None (the caller then goes one by one)."""
    columns = _columns([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1), shapely.box(2, 2, 3, 3)], **broken)
    assert hazards_in_bulk(columns) is None
    with pytest.raises(ValidationError):  # the one-by-one form refuses at least one of them
        for row in zip(*columns.values(), strict=True):
            HazardArea(**dict(zip(columns, row, strict=True)))  # type: ignore[arg-type]
