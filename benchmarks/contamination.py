"""Benchmark: how well does the contamination model find the areas that hold devices? Spatial block cross-validation
against the kursk-border generator's hidden truth, beside the oracle.

The world: the kursk-border scenario for ``--seed`` and its hidden truth (``build_kursk_border_truth``: which areas
really hold devices and where, drawn from things no register holds — the component each hazard came from and an
unseen smooth field of how hard the ground was fought over). The history: a random ``--surveyed`` share of the areas
has been surveyed; their outcome (devices or none) and the devices found are known. The features are built from what
a register holds (contested zone, border, road assets, settlements, land use, the class as recorded, devices
expected, size) plus the finds of the surveyed areas, exactly as ``sapper likelihood`` builds them.

Validation: the areas are grouped in ``--block-km`` square blocks; ``GroupKFold`` holds out whole blocks. In each
fold the model learns from the surveyed areas outside the fold, with "finds nearby" built from those areas only, and
predicts every area in the fold (surveyed or not: the truth is known for all). Scored with ROC-AUC and PR-AUC
(average precision) over all areas, beside:

- the **oracle**: the generator's own true probability of each area (the best any model could do on this world);
- the **class prior** that ``sapper likelihood`` falls back to (CHA 0.85, SHA 0.3);
- the same model under **random** folds (not spatial), to show how much random folds flatter it.

``python benchmarks/contamination.py --seed 2025 --write docs/benchmarks.md`` writes the figures into the section
between ``<!-- contamination:begin -->`` and ``<!-- contamination:end -->`` and into benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

import numpy as np
from _common import machine, write_section
from sklearn.model_selection import KFold

from sapper.domain.assets import AssetType
from sapper.domain.hazards import PRIOR_CONTAMINATION
from sapper.likelihood import Context, FeatureTable, Find, HazardInput, ModelParams, block_cv, feature_table, scores
from sapper.likelihood.model import fit_predict
from sapper.likelihood.validation import spatial_blocks
from sapper.scenario.kursk_border import build_kursk_border_truth

BEGIN, END = "<!-- contamination:begin -->", "<!-- contamination:end -->"
RESULTS = Path(__file__).parent / "results" / "contamination.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2025, help="scenario seed (the truth and the history follow it)")
    ap.add_argument("--surveyed", type=float, default=0.5, help="share of areas already surveyed (known outcome)")
    ap.add_argument("--block-km", type=float, default=10.0, help="side of the spatial blocks (km)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--write", type=Path, default=None, help="markdown file to write the section into")
    args = ap.parse_args()
    t0 = time.perf_counter()

    sc, truth = build_kursk_border_truth(args.seed)
    hazards = [HazardInput(h.id, h.geometry, h.land_use, h.hazard_class, h.device_categories) for h in sc.hazards]
    assert [t.hazard_id for t in truth] == [h.hazard_id for h in hazards]
    y = np.array([t.contaminated for t in truth], dtype=bool)
    oracle_p = np.array([t.probability for t in truth])
    surveyed = np.random.default_rng([args.seed, 11]).random(len(hazards)) < args.surveyed
    roads = tuple(a.geometry for a in sc.assets if a.asset_type is AssetType.ROAD)
    towns = tuple(s.point for s in sc.settlements)

    def features_for(known: np.ndarray) -> FeatureTable:
        """The features when the areas of ``known`` have been surveyed (their finds and outcomes known)."""
        finds = tuple(Find(t.hazard_id, pt) for t, k in zip(truth, known, strict=True) if k for pt in t.devices)
        outcome = {t.hazard_id: t.contaminated for t, k in zip(truth, known, strict=True) if k}
        return feature_table(hazards, Context(zone=sc.contested_zone, border=sc.border, roads=roads,
                                              settlements=towns, finds=finds, known=outcome))

    params = ModelParams(seed=args.seed)
    whole = features_for(np.zeros(len(hazards), dtype=bool))
    groups = spatial_blocks(whole.x_km, whole.y_km, size_km=args.block_km)
    cv = block_cv(groups, y, surveyed, features_for, folds=args.folds, params=params)

    # The same model under random folds (not spatial), for contrast.
    rand_p = np.full(len(hazards), np.nan)
    for train, test in KFold(args.folds, shuffle=True, random_state=args.seed).split(y):
        known = np.zeros(len(hazards), dtype=bool)
        known[train] = surveyed[train]
        table = features_for(known)
        rand_p[test] = fit_predict(table.values[known], y[known], table.values[test], params)

    prior_p = np.array([PRIOR_CONTAMINATION[h.recorded_class] for h in hazards])
    rows = {
        "oracle (the generator's true probability)": scores(y, oracle_p),
        "model, spatial block CV": (cv.roc_auc, cv.pr_auc),
        "model, random folds (not spatial)": scores(y, rand_p),
        "class prior (CHA 0.85, SHA 0.3)": scores(y, prior_p),
    }
    seconds = time.perf_counter() - t0
    command = (f"python benchmarks/contamination.py --seed {args.seed} --surveyed {args.surveyed:g} "
               f"--block-km {args.block_km:g} --folds {args.folds}")
    doc = {"command": command, "date": dt.date.today().isoformat(), "machine": machine(),
           "load_average_at_end": [round(x, 2) for x in os.getloadavg()], "seconds": round(seconds, 1),
           "areas": len(hazards), "with_devices": int(y.sum()), "surveyed": int(surveyed.sum()),
           "blocks": len(set(groups.tolist())),
           "results": {k: {"roc_auc": round(r, 3), "pr_auc": round(p, 3)} for k, (r, p) in rows.items()}}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc, indent=1))
    if args.write:
        lines = [BEGIN, f"`{command}` — {doc['date']}, {doc['machine']}, {seconds:.0f} s (load average at the end "
                 f"{doc['load_average_at_end']}). Synthetic world: {len(hazards)} areas, {int(y.sum())} truly hold "
                 f"devices (base rate {y.mean():.3f}, the PR-AUC of a random guess); {int(surveyed.sum())} surveyed "
                 f"(outcome known); {doc['blocks']} blocks of {args.block_km:g} km, {args.folds} folds.", "",
                 "| predictor | ROC-AUC | PR-AUC |", "|---|---:|---:|"]
        lines += [f"| {k} | {r:.3f} | {p:.3f} |" for k, (r, p) in rows.items()]
        lines.append(END)
        write_section(args.write, BEGIN, END, "\n".join(lines),
                      "## Contamination likelihood: spatial block cross-validation against the hidden truth")


if __name__ == "__main__":
    main()
