"""The store: one SQLite file that is also a GeoPackage 1.4 (QGIS and GDAL open it directly), or a PostgreSQL
database with PostGIS (a ``postgresql://`` URL), behind one API.

Public API: :func:`open_store`, :class:`Store` (and its :class:`UnitOfWork`), and the records it keeps besides
the domain objects: :class:`PlanRun`, :class:`PlannedTask`, :class:`Settlement`, :class:`ContextArea`,
:class:`HazardEdit` (an edit checked against a row version), :class:`LayerFeature` (a feature found by box),
:class:`SavedWhatIf` (the latest what-if comparison, kept for the report).
"""

from sapper.domain.places import Settlement
from sapper.store.engine import Backend
from sapper.store.records import (
    ContextArea,
    HazardEdit,
    LayerFeature,
    PlannedTask,
    PlanRun,
    SavedWhatIf,
    WhatIfAsset,
    WhatIfColumn,
)
from sapper.store.store import Store, UnitOfWork, open_store

__all__ = ["Backend", "ContextArea", "HazardEdit", "LayerFeature", "PlanRun", "PlannedTask", "SavedWhatIf",
           "Settlement", "Store", "UnitOfWork", "WhatIfAsset", "WhatIfColumn", "open_store"]
