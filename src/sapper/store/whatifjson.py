"""The JSON of the latest what-if comparison (:class:`SavedWhatIf`), written and read here and nowhere else.

The store keeps it as one JSON text in ``sapper_meta`` under :data:`KEY` (a comparison is replaced by the next one; no
table of its own, so no migration). A value of the wrong type is a StoreError naming the key.
"""

from __future__ import annotations

import datetime as dt
import json

from sapper.errors import StoreError
from sapper.store.records import SavedWhatIf, WhatIfAsset, WhatIfColumn

#: The ``sapper_meta`` key the latest comparison is kept under.
KEY = "whatif_latest"


def _day(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def whatif_to_text(w: SavedWhatIf) -> str:
    """``w`` as the JSON text the store keeps."""
    return json.dumps({
        "plan_id": w.plan_id, "made_at": w.made_at.isoformat(), "runs": w.runs, "seed": w.seed,
        "released_by": w.released_by.isoformat(), "hazard_area_km2": w.hazard_area_km2,
        "columns": [{"name": c.name, "changes": c.changes, "deminers": c.deminers, "builders": c.builders,
                     "winter_work": c.winter_work, "planned_finish": _day(c.planned_finish),
                     "p10": c.p10.isoformat(), "p50": c.p50.isoformat(), "p80": c.p80.isoformat(),
                     "p90": c.p90.isoformat(), "released_km2_p50": c.released_km2_p50,
                     "assets": [{"asset_id": a.asset_id, "asset_type": a.asset_type, "planned": _day(a.planned),
                                 "p50": _day(a.p50), "p80": _day(a.p80)} for a in c.assets]}
                    for c in w.columns],
    }, ensure_ascii=False, separators=(",", ":"))


def whatif_from_text(text: str) -> SavedWhatIf:
    """The comparison the store kept (StoreError naming the key when it is not one)."""
    try:
        d = json.loads(text)

        def day(v: object) -> dt.date | None:
            return dt.date.fromisoformat(str(v)) if v is not None else None

        def must(v: object) -> dt.date:
            return dt.date.fromisoformat(str(v))

        cols = tuple(WhatIfColumn(
            str(c["name"]), str(c["changes"]), int(c["deminers"]), int(c["builders"]), bool(c["winter_work"]),
            day(c["planned_finish"]), must(c["p10"]), must(c["p50"]), must(c["p80"]), must(c["p90"]),
            float(c["released_km2_p50"]),
            tuple(WhatIfAsset(str(a["asset_id"]), str(a["asset_type"]), day(a["planned"]), day(a["p50"]),
                              day(a["p80"])) for a in c["assets"]))
            for c in d["columns"])
        plan_id = d["plan_id"]
        return SavedWhatIf(int(plan_id) if plan_id is not None else None, dt.datetime.fromisoformat(d["made_at"]),
                           int(d["runs"]), int(d["seed"]), must(d["released_by"]), float(d["hazard_area_km2"]), cols)
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"sapper_meta {KEY!r} is not a what-if comparison: {exc}"[:300]) from None
