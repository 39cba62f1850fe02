"""Write a sample report (synthetic data at the reference scale) to a path, for looking at it. Not a test.

    .venv/bin/python tests/report/render_sample.py /tmp/report.html [--small] [--no-shared-data]

With the shared open data next to the repository (``../shared/data``), the real Kursk outline, the border and
the GeoNames towns are used; otherwise a rough stand-in outline and a few town positions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from shapely import unary_union
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for ``tests.report``

from sapper.report.html import write_report
from sapper.report.model import Town
from tests.report.report_sample_data import make_report_data

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def _features(path: Path) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["features"]
    return features


def shared_layers() -> tuple[BaseGeometry, BaseGeometry, tuple[Town, ...]] | None:
    """The Kursk outline, the border lines and the GeoNames towns of Kursk Oblast, if the data is there."""
    oblasts = SHARED / "ne-admin-kursk" / "oblasts_ne10m.geojson"
    borders = SHARED / "ne-admin-kursk" / "border_lines_ne10m.geojson"
    towns = SHARED / "geonames-kursk" / "settlements_geonames_cities500.geojson"
    if not (oblasts.exists() and borders.exists() and towns.exists()):
        return None
    outline = next(
        shape(f["geometry"]) for f in _features(oblasts) if f["properties"]["name"] == "Kursk Oblast"
    )
    border = unary_union([shape(f["geometry"]) for f in _features(borders)])
    places = tuple(
        Town(str(p["name"]), int(p["population"]), shape(f["geometry"]), synthetic=False)
        for f in _features(towns)
        if (p := f["properties"])["oblast_ne"] == "Kursk Oblast"
    )
    return outline, border, places


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--small", action="store_true", help="a dozen hazards instead of the reference scale")
    parser.add_argument("--no-shared-data", action="store_true", help="do not read ../shared/data")
    args = parser.parse_args()
    if args.small:
        data = make_report_data(n_hazards=12, n_assets=9, n_bars=40, n_lanes=8, n_villages=10)
    else:
        data = make_report_data(n_hazards=2400, n_assets=1300, n_bars=10_000, n_lanes=330, n_villages=120)
    layers = None if args.no_shared_data else shared_layers()
    if layers is not None:
        outline, border, towns = layers
        data = dataclasses.replace(
            data,
            outline=outline,
            context=(("border", border), data.context[1]),
            towns=towns + tuple(t for t in data.towns if t.synthetic),
        )
    t0 = time.perf_counter()
    path = write_report(data, args.path)
    took = time.perf_counter() - t0
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in {took:.2f} s")


if __name__ == "__main__":
    main()
