"""Items pages by bbox (``store.features``): the GeoPackage R-tree answers most candidates by itself and checks the
geometry's exact envelope only near the box's edges, so the rows must be exactly those whose envelope meets the box
— including envelopes that touch it, and excluding ones a 32-bit float R-tree box would wrongly let in. (On
PostGIS ``&&`` compares PostGIS's own 32-bit float boxes, rounded outwards: these exact-edge cases are for the
GeoPackage.)"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import shapely

from sapper.domain.hazards import Evidence, HazardArea, HazardClass
from sapper.domain.resources import Organisation, OrgKind
from sapper.errors import NotFoundError
from sapper.store import Store
from sapper.store.features import FeatureQuery


def _hazard(name: str, minx: float, miny: float, maxx: float, maxy: float) -> HazardArea:
    return HazardArea(name, HazardClass.SHA, shapely.box(minx, miny, maxx, maxy), Evidence.INDIRECT)


def _ids(store: Store, bbox: tuple[float, float, float, float], limit: int = 1000) -> set[str]:
    return {f.id for f in store.features(FeatureQuery("hazard_areas", limit=limit, bbox=bbox)).features}


def test_edges_touching_and_just_outside(gpkg_store: Store) -> None:
    """Envelope touching the box's edge: in. 1e-7° outside (well inside a 32-bit float's rounding at 35°, so the
    R-tree box meets the query): out. Well inside: in. Counted and paged alike."""
    store = gpkg_store
    box = (35.1, 50.1, 35.2, 50.2)
    store.add_hazards([
        _hazard("touch-left", 35.09, 50.15, 35.1, 50.16),          # maxx == box minx
        _hazard("touch-top", 35.15, 50.2, 35.16, 50.21),           # miny == box maxy
        _hazard("outside-right", 35.2000001, 50.15, 35.21, 50.16),  # minx 1e-7 beyond box maxx
        _hazard("outside-below", 35.15, 50.09, 35.16, 50.0999999),  # maxy 1e-7 below box miny
        _hazard("inside", 35.14, 50.14, 35.16, 50.16),
        _hazard("far", 36.0, 51.0, 36.01, 51.01),
    ])
    assert _ids(store, box) == {"touch-left", "touch-top", "inside"}
    page = store.features(FeatureQuery("hazard_areas", limit=2, bbox=box))
    assert page.number_matched == 3 and len(page.features) == 2


def test_same_rows_as_envelope_arithmetic(gpkg_store: Store) -> None:
    """300 random boxes over 400 random small polygons: the page is exactly the polygons whose envelope meets the
    box (computed here with shapely), in id order, and numberMatched counts them all."""
    store = gpkg_store
    rng = np.random.default_rng(7)
    polys = []
    for i in range(400):
        x, y = rng.uniform(35.0, 35.5), rng.uniform(50.0, 50.5)
        w, h = rng.uniform(0.0005, 0.02, 2)
        polys.append(_hazard(f"h-{i:03d}", x, y, x + w, y + h))
    store.add_hazards(polys)
    bounds = shapely.bounds([h.geometry for h in polys])
    for _ in range(300):
        x, y = rng.uniform(34.95, 35.5), rng.uniform(49.95, 50.5)
        w, h = rng.uniform(0.001, 0.2, 2)
        # snap some box edges onto polygon edges, where rounding would matter
        k = int(rng.integers(len(polys)))
        box = (float(bounds[k, 2]), y, x + w, y + h) if rng.random() < 0.3 else (x, y, x + w, y + h)
        if box[0] > box[2]:
            continue
        want = {p.id for p, b in zip(polys, bounds, strict=True)
                if b[0] <= box[2] and b[2] >= box[0] and b[1] <= box[3] and b[3] >= box[1]}
        page = store.features(FeatureQuery("hazard_areas", limit=1000, bbox=box))
        assert {f.id for f in page.features} == want
        assert page.number_matched == len(want)


def test_one_feature_scoped_without_deprecated_sqlalchemy(gpkg_store: Store) -> None:
    """One feature read within an organisation's scope binds the scope at execute: no SQLAlchemy deprecation
    warning (``params()`` on a clause, deprecated in 2.1), and another organisation's area is not found."""
    store = gpkg_store
    store.add_organisations([Organisation("op-a", "Operator A", OrgKind.OPERATOR)])
    store.add_hazards([HazardArea("HA-1", HazardClass.SHA, shapely.box(35, 50, 35.1, 50.1), Evidence.INDIRECT,
                                  organisation_id="op-a")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.feature("hazard_areas", "HA-1", scope="op-a").id == "HA-1"
        with pytest.raises(NotFoundError):
            store.feature("hazard_areas", "HA-1", scope="op-b")


def test_scoped_pages_by_bbox_in_order(gpkg_store: Store) -> None:
    """An organisation's pages by bbox (the R-tree's choice joined to the rows for the scope): page after page
    (limit 7), the features are exactly that organisation's whose envelope meets the box, in fid order, each once,
    and every page's numberMatched counts them all; an offset past the end gives an empty page with the count."""
    store = gpkg_store
    store.add_organisations([Organisation("op-a", "Operator A", OrgKind.OPERATOR),
                             Organisation("op-b", "Operator B", OrgKind.OPERATOR)])
    rng = np.random.default_rng(11)
    polys = []
    for i in range(200):
        x, y = rng.uniform(35.0, 35.3), rng.uniform(50.0, 50.3)
        w, h = rng.uniform(0.001, 0.03, 2)
        org = ("op-a", "op-b", None)[i % 3]
        polys.append(HazardArea(f"h-{i:03d}", HazardClass.SHA, shapely.box(x, y, x + w, y + h), Evidence.INDIRECT,
                                organisation_id=org))
    store.add_hazards(polys)
    bounds = shapely.bounds([h.geometry for h in polys])
    for _ in range(40):
        x, y = rng.uniform(34.95, 35.3), rng.uniform(49.95, 50.3)
        w, h = rng.uniform(0.01, 0.2, 2)
        box = (x, y, x + w, y + h)
        for scope in ("op-a", "op-b", None):
            want = [p.id for p, b in zip(polys, bounds, strict=True)
                    if (scope is None or p.organisation_id == scope)
                    and b[0] <= box[2] and b[2] >= box[0] and b[1] <= box[3] and b[3] >= box[1]]
            got: list[str] = []
            for offset in range(0, len(want) + 7, 7):
                page = store.features(FeatureQuery("hazard_areas", limit=7, offset=offset, bbox=box, scope=scope))
                assert page.number_matched == len(want)
                got += [f.id for f in page.features]
            assert got == want  # added in id order: fid order is id order
