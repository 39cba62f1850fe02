"""A foreign register, built in code: SYNTHETIC data shaped like an IMSMA NG hazard export saved by Excel on a
Russian- or Ukrainian-language Windows (cp1251, ``;`` separated, decimal commas), with the columns such an export
has (``fileId``, ``typeArea``, ``landUse``, ``objName``, ``oblast``, ``comments``, ``WKT``) and its values in Russian
and Ukrainian. Nothing in it describes a real place's contamination.

Its rows are chosen to exercise every decision an import through a profile makes: a file number carried by two
polygons (one SHA in two parts), a row without a file number, values no map knows yet, a column sapper has no field
for (kept as source attributes), a decimal comma.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import shapely


def _square(lon: float, lat: float, size: float = 0.004) -> str:
    return shapely.box(lon, lat, lon + size, lat + size).wkt


#: The value map the file needs: every value of ``typeArea`` and ``landUse`` it holds, by field.
VALUES = {
    "hazard_class": {
        "Подозрительный опасный район": "SHA",
        "Підтверджений небезпечний район": "CHA",
        "Suspected Minefield": "SHA",
    },
    "land_use": {"сільськогосподарські угіддя": "agricultural", "ліс": "forest", "жилая застройка": "residential"},
}
COLUMNS = ("fileId", "typeArea", "landUse", "objName", "oblast", "benef", "comments", "WKT")
#: The columns map: sapper's field ← the export's column.
MAP = {"id": "fileId", "hazard_class": "typeArea", "land_use": "landUse", "name": "objName",
       "beneficiaries": "benef"}
ROWS = (
    ("145", "Подозрительный опасный район", "сільськогосподарські угіддя", "Поле у Глушково", "Курская", "120",
     "синтетика", _square(34.60, 51.34)),
    ("145", "Подозрительный опасный район", "ліс", "Поле у Глушково (2)", "Курская", "0", "", _square(34.61, 51.34)),
    ("146", "Підтверджений небезпечний район", "ліс", "Лісосмуга", "Сумська", "35", "міни ПМН-2",
     _square(34.62, 51.34)),
    ("", "Suspected Minefield", "жилая застройка", "Окраина", "Курская", "1200", "", _square(34.63, 51.34)),
    ("147", "Подозрительный опасный район", "ліс", "Балка", "Сумська", "0", "площа 1,5 га", _square(34.64, 51.34)),
)


@dataclass(frozen=True)
class ForeignFile:
    path: Path
    #: Features sharing the file number 145, and those without a file number.
    repeated: int = 2
    missing: int = 1

    @property
    def features(self) -> int:
        return len(ROWS)


def imsma_ng_csv(path: Path, *, encoding: str = "cp1251", delimiter: str = ";") -> ForeignFile:
    """Write the SYNTHETIC foreign export to ``path`` in ``encoding`` with ``delimiter``."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(ROWS)
    path.write_bytes(buf.getvalue().encode(encoding))
    return ForeignFile(path)


def value_options() -> list[str]:
    """``--value`` options for :data:`VALUES`."""
    return [f"{field}:{source}={target}" for field, table in VALUES.items() for source, target in table.items()]


def map_options() -> list[str]:
    return [f"{target}={source}" for target, source in MAP.items()]
