"""The embedded store: one SQLite file that is also a GeoPackage 1.4, so QGIS and GDAL open it directly.

Public API: :func:`open_store`, :class:`Store` (and its :class:`UnitOfWork`), and the records it keeps besides
the domain objects: :class:`PlanRun`, :class:`PlannedTask`, :class:`Settlement`, :class:`ContextArea`.
"""

from sapper.domain.places import Settlement
from sapper.store.records import ContextArea, PlannedTask, PlanRun
from sapper.store.store import Store, UnitOfWork, open_store

__all__ = ["ContextArea", "PlanRun", "PlannedTask", "Settlement", "Store", "UnitOfWork", "open_store"]
