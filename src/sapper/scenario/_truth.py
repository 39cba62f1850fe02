"""The hidden truth of a synthetic world: which hazard areas really hold devices, and where those devices lie.

The register says what people *suspect*; survey and clearance find out what is there. A benchmark of the
contamination model needs that answer, so the generator draws it — from its own stream (the scenario itself stays
byte for byte what it was) and from what it knows and a register does not: the component each hazard came from
(``_hazards.Component``), a smooth unseen field of "how hard this ground was fought over" (random Fourier features,
a few kilometres across: neighbouring areas share it, as minefields and shelling do), and its own noisy version of
how long the ground was contested. The truth is exposed to benchmarks only (``build_kursk_border_truth``); no
store, service or model reads it.

The chance of devices, on the logit scale (every coefficient an assumption, docs/likelihood.md):
intercept + component + 1.6 × (days contested / 263) − 0.35 × min(km to the contested line, 15) + land use
+ 1.6 if the area was recorded confirmed (direct evidence) + 0.3 if mines are expected + the unseen field (sd 0.9).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sapper.domain.hazards import MINE_CATEGORIES, HazardClass, LandUse
from sapper.scenario._hazards import Component, HazardDraft
from sapper.scenario._network import Frame
from sapper.scenario._synth import random_points_in

INTERCEPT = -1.3
COMPONENT_EFFECT: dict[Component, float] = {
    Component.FRONT: 0.9, Component.INSIDE: 0.3, Component.ROADS: 0.6, Component.SETTLEMENTS: 0.0,
    Component.DEPTH: -0.9, Component.SCATTERED: -1.6,
}
LAND_USE_EFFECT: dict[LandUse, float] = {
    LandUse.AGRICULTURAL: 0.2, LandUse.FOREST: 0.5, LandUse.RESIDENTIAL: -0.2, LandUse.INFRASTRUCTURE: 0.3,
    LandUse.WETLAND: -0.4, LandUse.OTHER: 0.0,
}
DAYS_EFFECT = 1.6
FRONT_EFFECT_PER_KM = -0.35
CHA_EFFECT = 1.6
MINES_EFFECT = 0.3
FIELD_SD = 0.9
FIELD_SCALE_M = 4_000.0
FIELD_FEATURES = 96
MAX_DAYS = 263.0


@dataclass(frozen=True, slots=True)
class AreaTruth:
    """The truth of one hazard area: its chance of devices (what an oracle knows), whether it holds any, and the
    devices (WGS84 points; empty when it holds none)."""

    hazard_id: str
    probability: float
    contaminated: bool
    devices: tuple[Point, ...]


def _field(rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A smooth random field with unit variance and length scale ``FIELD_SCALE_M`` (random Fourier features)."""
    w = rng.normal(0.0, 1.0 / FIELD_SCALE_M, size=(FIELD_FEATURES, 2))
    b = rng.uniform(0.0, 2.0 * math.pi, size=FIELD_FEATURES)
    phase = np.outer(x, w[:, 0]) + np.outer(y, w[:, 1]) + b
    return np.asarray(np.sqrt(2.0 / FIELD_FEATURES) * np.cos(phase).sum(axis=1), dtype=float)


def contamination_truth(rng: np.random.Generator, frame: Frame, drafts: list[HazardDraft],
                        ids: list[str], to_wgs84: Transformer) -> tuple[AreaTruth, ...]:
    """The truth of each hazard (``drafts``, local metres; ``ids`` their register ids), drawn from ``rng``;
    ``to_wgs84`` maps a local geometry to WGS84."""
    arr = np.array([d.geometry for d in drafts], dtype=object)
    cent = shapely.centroid(arr)
    x, y = shapely.get_x(cent), shapely.get_y(cent)
    front_km = np.asarray(shapely.distance(frame.front, arr), dtype=float) / 1e3
    border_m = np.asarray(shapely.distance(frame.oblast.boundary, arr), dtype=float)
    inside = np.asarray(shapely.intersects(frame.zone, cent), dtype=bool)
    share = np.where(front_km * 1e3 + border_m > 0, front_km * 1e3 / np.maximum(front_km * 1e3 + border_m, 1.0), 0.0)
    days = np.where(inside, np.clip((30.0 + 233.0 * share) * rng.lognormal(0.0, 0.25, len(drafts)), 0, MAX_DAYS), 0.0)
    field = _field(rng, x, y)
    logit = (INTERCEPT
             + np.array([COMPONENT_EFFECT[d.component] for d in drafts])
             + DAYS_EFFECT * days / MAX_DAYS
             + FRONT_EFFECT_PER_KM * np.minimum(front_km, 15.0)
             + np.array([LAND_USE_EFFECT[d.land_use] for d in drafts])
             + CHA_EFFECT * np.array([d.hazard_class is HazardClass.CHA for d in drafts], dtype=float)
             + MINES_EFFECT * np.array([bool(d.devices & MINE_CATEGORIES) for d in drafts], dtype=float)
             + FIELD_SD * field)
    prob = 1.0 / (1.0 + np.exp(-logit))
    holds = rng.random(len(drafts)) < prob
    out: list[AreaTruth] = []
    for d, hid, p, h in zip(drafts, ids, prob, holds, strict=True):
        devices: tuple[Point, ...] = ()
        if h:
            count = 1 + int(rng.poisson(min(30.0, 1.0 + d.geometry.area / 20_000.0)))
            local = random_points_in(rng, d.geometry, count)
            devices = tuple(_point(to_wgs84, pt) for pt in local)
        out.append(AreaTruth(hid, float(p), bool(h), devices))
    return tuple(out)


def _point(to_wgs84: Transformer, pt: BaseGeometry) -> Point:
    assert isinstance(pt, Point)
    lon, lat = to_wgs84.transform(pt.x, pt.y)
    return Point(float(lon), float(lat))
