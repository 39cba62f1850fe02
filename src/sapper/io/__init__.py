"""Files in and out: hazard areas and assets as GeoPackage, GeoJSON, CSV and zipped Shapefile (pyogrio/geopandas
live here)."""

from sapper.io.result import FeatureIssue, ReadResult
from sapper.io.vector import read_assets, read_hazards, write_assets, write_hazards

__all__ = ["FeatureIssue", "ReadResult", "read_assets", "read_hazards", "write_assets", "write_hazards"]
