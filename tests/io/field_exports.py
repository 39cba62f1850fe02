"""ODK Central and KoboToolbox exports built in code, shaped as the tools write them (ECOSYSTEM.md, "Field exports,
exactly"): real zip, CSV, XLSX and GeoJSON files in a test's ``tmp_path``.

A submission is described once, tool-neutrally, as a :class:`Report` (answers as the text a phone sends, geopoints
as ``(lat, lon)``, geoshapes as lists of ``(lat, lon)``, repeat entries as dicts), and written in each tool's shape.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

LatLon = tuple[float, float]

ODK_META = ["meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
            "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
KOBO_META = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by", "_tags",
             "_index"]

#: Top-level fields of the clearance template, in form order, and their kinds here ("point", "shape" or text).
CLEARANCE = {"start": "", "end": "", "work_date": "", "organisation_id": "", "team_id": "", "hazard_id": "",
             "method": "", "cleared_m2": "", "cleared_shape": "shape", "clearance_depth_cm": "",
             "deminers_working": "", "hours_worked": "", "devices_found": "", "notes": ""}
DEVICES = {"device_position": "point", "device_category": "", "device_type": "", "device_condition": "",
           "device_depth_cm": "", "device_quantity": "", "device_fuze": "", "device_disposal": "",
           "device_disposal_date": ""}
BRIGADE = {"start": "", "end": "", "work_date": "", "organisation_id": "", "brigade_id": "", "asset_id": "",
           "trade": "", "builder_days": "", "percent_complete": "", "blocked_by_hazard": "", "blocking_hazard_id": "",
           "blocking_location": "point", "photo": "", "notes": ""}
NTS = {"start": "", "end": "", "survey_date": "", "organisation_id": "", "team_id": "", "new_area": "",
       "hazard_id": "", "area_shape": "shape", "evidence_found": "", "evidence": "", "device_categories": "",
       "evidence_photo": "", "land_use": "", "beneficiaries": "", "outcome": "", "cancelled_shape": "shape",
       "benchmark": "point", "marking": "", "notes": ""}
TS = {"start": "", "end": "", "survey_date": "", "organisation_id": "", "team_id": "", "hazard_id": "", "ts_type": "",
      "method": "", "reduced_shape": "shape", "devices_found": "", "benchmark": "point", "marking": "", "notes": ""}
ACCIDENT = {"start": "", "end": "", "accident_date": "", "accident_location": "point", "place_description": "",
            "accident_type": "", "organisation_id": "", "hazard_id": "", "device_category": "", "device_type": "",
            "description": "", "victim_count": ""}
VICTIMS = {"victim_name": "", "victim_gender": "", "victim_birth_date": "", "victim_outcome": "",
           "victim_activity": ""}

#: Form id → (top-level fields, {repeat name: its fields}).
FORMS: dict[str, tuple[dict[str, str], dict[str, dict[str, str]]]] = {
    "sapper_clearance": (CLEARANCE, {"devices": DEVICES}),
    "sapper_brigade": (BRIGADE, {}),
    "sapper_nts": (NTS, {}),
    "sapper_ts": (TS, {"devices": DEVICES}),
    "sapper_accident": (ACCIDENT, {"victims": VICTIMS}),
}


@dataclass
class Report:
    """One version of one submission, as a phone sent it (see the module docstring)."""

    instance: str
    answers: dict[str, Any]
    repeats: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    key: str | None = None  # ODK Central's KEY (the first instance id); default: the instance id
    edits: int = 0
    submitter: str = "Ivan Petrenko"
    submitted: str = "2025-06-18T16:05:11.123Z"
    deprecated: str | None = None  # meta/deprecatedID
    kobo_id: int = 101  # Kobo's _id


def shape_text(points: Sequence[LatLon], *, trailing: bool = True, comma: bool = False) -> str:
    """A geoshape/geotrace as ODK writes it: ``lat lon alt acc`` points joined by ``;`` (trailing ``;``)."""
    text = ";".join(f"{lat} {lon} 0.0 0.0" for lat, lon in points) + (";" if trailing else "")
    return text.replace(".", ",") if comma else text


def point_text(p: LatLon) -> str:
    return f"{p[0]} {p[1]} 118.5 4.2"


def _cell(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "shape" and not isinstance(value, str):
        return shape_text(value)
    return str(value)


def _odk_columns(fields: dict[str, str]) -> list[str]:
    cols: list[str] = []
    for name, kind in fields.items():
        cols += [f"{name}-{p}" for p in ("Latitude", "Longitude", "Altitude", "Accuracy")] if kind == "point" \
            else [name]
    return cols


def _odk_values(fields: dict[str, str], answers: dict[str, Any]) -> list[str]:
    row: list[str] = []
    for name, kind in fields.items():
        value = answers.get(name)
        if kind == "point":
            row += ["", "", "", ""] if value is None else (
                list(value) if isinstance(value, list) else [str(value[0]), str(value[1]), "118.5", "4.2"])
        else:
            row.append(_cell(kind, value))
    return row


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]], delimiter: str = ",",
              quoting: int = csv.QUOTE_MINIMAL) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def odk_files(form_id: str, reports: Sequence[Report]) -> dict[str, str]:
    """The CSV files of an ODK Central export of ``reports``: ``<formId>.csv`` and ``<formId>-<repeat>.csv``."""
    fields, repeats = FORMS[form_id]
    header = ["SubmissionDate", *_odk_columns(fields), *ODK_META]
    rows = []
    for r in reports:
        key = r.key or r.instance
        meta = [r.instance, key, "17", r.submitter, "0", "0", "", "approved" if r.edits else "", "collect:X7",
                str(r.edits), "2025061201"]
        rows.append([r.submitted, *_odk_values(fields, r.answers), *meta])
    files = {f"{form_id}.csv": _csv_text(header, rows)}
    for name, rfields in repeats.items():
        rrows = []
        for r in reports:
            key = r.key or r.instance
            for n, entry in enumerate(r.repeats.get(name, []), start=1):
                rrows.append([*_odk_values(rfields, entry), key, f"{key}/{name}[{n}]"])
        files[f"{form_id}-{name}.csv"] = _csv_text([*_odk_columns(rfields), "PARENT_KEY", "KEY"], rrows)
    return files


def odk_zip(path: Path, form_id: str, reports: Sequence[Report], *, extra: dict[str, str] | None = None) -> Path:
    """An ODK Central CSV zip (with a ``media/`` folder, as Central writes when there are attachments)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in {**odk_files(form_id, reports), **(extra or {})}.items():
            z.writestr(name, text)
        z.writestr("media/1718723400000.jpg", b"\xff\xd8\xff\xe0 not really a photo")
    return path


def _kobo_columns(fields: dict[str, str], prefix: str = "") -> list[str]:
    cols: list[str] = []
    for name, kind in fields.items():
        cols.append(prefix + name)
        if kind == "point":
            cols += [f"_{name}_{p}" for p in ("latitude", "longitude", "altitude", "precision")]
    return cols


def _kobo_values(fields: dict[str, str], answers: dict[str, Any]) -> list[Any]:
    row: list[Any] = []
    for name, kind in fields.items():
        value = answers.get(name)
        if kind == "point":
            if value is None:
                row += ["", "", "", "", ""]
            else:
                row += [point_text(value), str(value[0]), str(value[1]), "118.5", "4.2"]
        else:
            row.append(_cell(kind, value))
    return row


def _kobo_main(form_id: str, reports: Sequence[Report], *, uuid_column: bool = True
               ) -> tuple[list[str], list[list[Any]]]:
    fields, _ = FORMS[form_id]
    header = [*_kobo_columns(fields), "meta/instanceID", "meta/deprecatedID", *KOBO_META]
    if not uuid_column:
        header.remove("meta/instanceID")
    rows = []
    for n, r in enumerate(reports, start=1):
        meta = [r.instance] if uuid_column else []
        meta += [r.deprecated or "", str(r.kobo_id), r.instance.removeprefix("uuid:"),
                 r.submitted.removesuffix("Z")[:19], "validation_status_approved", "[]", "submitted_via_web",
                 "ivan_p", "", str(n)]
        rows.append([*_kobo_values(fields, r.answers), *meta])
    return header, rows


def kobo_csv(path: Path, form_id: str, reports: Sequence[Report], *, delimiter: str = ";",
             encoding: str = "utf-8") -> Path:
    """A KoboToolbox CSV export: every value quoted, ``;`` by default (formpack's defaults); no repeat groups."""
    header, rows = _kobo_main(form_id, reports)
    path.write_bytes(_csv_text(header, rows, delimiter, csv.QUOTE_ALL).encode(encoding))
    return path


def kobo_xlsx(path: Path, form_id: str, reports: Sequence[Report], *, sheet: str = "Clearance progress") -> Path:
    """A KoboToolbox XLSX export: the submissions sheet, then one sheet per repeat group linked by _parent_index."""
    repeats = FORMS[form_id][1]
    header, rows = _kobo_main(form_id, reports)
    book = openpyxl.Workbook()
    main = book.active
    assert main is not None
    main.title = sheet
    main.append(header)
    for row in rows:
        main.append([_typed(v) for v in row])
    for name, rfields in repeats.items():
        ws = book.create_sheet(name)
        ws.append([*_kobo_columns(rfields, f"{name}/"), "_index", "_parent_table_name", "_parent_index",
                   "_submission__id", "_submission__uuid"])
        index = 0
        for n, r in enumerate(reports, start=1):
            for entry in r.repeats.get(name, []):
                index += 1
                ws.append([*(_typed(v) for v in _kobo_values(rfields, entry)), index, sheet, n, r.kobo_id,
                           r.instance.removeprefix("uuid:")])
    book.save(path)
    return path


def _typed(value: Any) -> Any:
    """What a spreadsheet holds: numbers as numbers, empty as nothing."""
    if value == "":
        return None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in value else number
    return value


def kobo_geojson(path: Path, form_id: str, reports: Sequence[Report], geo_field: str) -> Path:
    """A KoboToolbox GeoJSON export (flattened): one feature per submission with ``geo_field`` as its geometry.

    Properties hold the answers by name, without the geo question; ``meta/instanceID`` and ``_uuid`` are kept
    (as the export does when metadata is asked for).
    """
    fields, _ = FORMS[form_id]
    features = []
    for r in reports:
        props: dict[str, Any] = {k: _cell(fields[k], v) for k, v in r.answers.items()
                                 if k != geo_field and v is not None}
        props.update({"meta/instanceID": r.instance, "_uuid": r.instance.removeprefix("uuid:"), "_id": r.kobo_id})
        value = r.answers.get(geo_field)
        geometry = None
        if value is not None:
            ring = [[lon, lat] for lat, lon in value]
            geometry = {"type": "Polygon", "coordinates": [ring]}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    path.write_text(json.dumps({"type": "FeatureCollection", "name": form_id, "features": features}),
                    encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------------
# Reports to build exports from
# ----------------------------------------------------------------------------------------------------

#: A cleared strip inside hazard H-1 (lat, lon), closed.
STRIP: list[LatLon] = [(50.101, 35.101), (50.101, 35.104), (50.103, 35.104), (50.103, 35.101), (50.101, 35.101)]


def clearance(instance: str, **answers: Any) -> Report:
    """A day of clearance on H-1 by team T-1 with two devices found; ``answers`` override or add."""
    values: dict[str, Any] = {
        "start": "2025-06-18T07:02:10.000+03:00", "end": "2025-06-18T15:40:55.000+03:00", "work_date": "2025-06-18",
        "organisation_id": "op-1", "team_id": "T-1", "hazard_id": "H-1", "method": "manual", "cleared_m2": "250,5",
        "cleared_shape": STRIP, "clearance_depth_cm": "13", "deminers_working": "6", "hours_worked": "5,5",
        "devices_found": "yes", "notes": "Ряд 4, north edge",
    }
    devices = [
        {"device_position": (50.1015, 35.1021), "device_category": "ap_mine", "device_type": "PMN-2",
         "device_condition": "armed", "device_depth_cm": "7"},
        {"device_position": (50.1022, 35.1033), "device_category": "erw_uxo", "device_type": "VOG-17",
         "device_condition": "damaged", "device_depth_cm": "3,5", "device_quantity": "3", "device_fuze": "UDZ",
         "device_disposal": "destroyed_in_place", "device_disposal_date": "2025-06-18"},
    ]
    extra = answers.pop("repeats", None)
    values.update(answers)
    return Report(instance, values, {"devices": devices if extra is None else extra})
