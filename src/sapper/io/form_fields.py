"""The field names of sapper's XLSForm templates: the contract between the forms and the ODK/Kobo importer.

Field teams fill in the templates of ``sapper.io.xlsform`` in ODK Collect or KoboCollect; ODK Central and
KoboToolbox export the submissions with these names as columns (see ECOSYSTEM.md, "Field exports, exactly"). The
importer reads ``FIELD_NAMES`` rather than repeating the names, and ``tests/io/test_xlsform.py`` checks that this
constant and the forms say the same thing. Renaming a field breaks every export already collected: add a field
instead, and bump the form's version.

Shape: ``FIELD_NAMES[key]`` for each form (``nts``, ``ts``, ``clearance``, ``accident``, ``brigade``) is a
``FormFields`` with

- ``form_id``: the form's id (``settings.form_id``); ODK Central names its export ``<form_id>.csv``;
- ``fields``: the top-level fields in form order, name → XLSForm type as written in the survey sheet
  (``geopoint``, ``geoshape``, ``date``, ``integer``, ``decimal``, ``text``, ``image``, ``start``, ``end``,
  ``select_one <list>``, ``select_multiple <list>``). The templates have no plain groups, so these names are the
  column names as they are;
- ``repeats``: each repeat group by name (ODK Central: ``<form_id>-<repeat>.csv``; Kobo: a sheet), with its fields
  in the same form;
- ``sensitive``: the fields holding personal data (victims of accidents), which must be kept apart and never exported
  without permission.

Choice values are the register's enumerations where one exists (``DeviceCategory``, ``Evidence``, ``LandUse``,
``Method``, ``DeviceCondition``, ``Trade``); the other lists are in ``sapper.io.xlsform``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True, slots=True)
class FormFields:
    """The fields of one XLSForm template: top-level fields and repeat groups, name → XLSForm type, in form order."""

    form_id: str
    fields: Mapping[str, str]
    repeats: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    sensitive: frozenset[str] = frozenset()
    #: Fields added in a later version of the form: an export collected on an earlier version lacks their columns
    #: and is still this form (``services.fielddata.form_kind`` does not ask for them).
    added: frozenset[str] = frozenset()

    def repeat_of(self, name: str) -> str | None:
        """The repeat group holding field ``name``, or None for a top-level field."""
        return next((r for r, fields in self.repeats.items() if name in fields), None)

    def type_of(self, name: str) -> str:
        """The XLSForm type of field ``name`` (top-level or in a repeat); KeyError if the form has no such field."""
        if name in self.fields:
            return self.fields[name]
        for fields in self.repeats.values():
            if name in fields:
                return fields[name]
        raise KeyError(f"{self.form_id} has no field {name!r}")


_DEVICES: Final[Mapping[str, str]] = {
    "device_position": "geopoint",
    "device_category": "select_one device_category",
    "device_type": "text",
    "device_condition": "select_one device_condition",
    "device_depth_cm": "integer",
    "device_quantity": "integer",
    "device_fuze": "text",
    "device_disposal": "select_one disposal",
    "device_disposal_date": "date",
}

#: Form key → its fields. The keys are the names ``sapper forms write --form`` takes.
FIELD_NAMES: Final[Mapping[str, FormFields]] = MappingProxyType({
    "nts": FormFields(
        form_id="sapper_nts",
        added=frozenset({"task_order"}),  # version 2026120702
        fields={
            "start": "start",
            "end": "end",
            "survey_date": "date",
            "organisation_id": "text",
            "team_id": "text",
            "new_area": "select_one yes_no",
            "hazard_id": "text",
            "task_order": "text",
            "area_shape": "geoshape",
            "evidence_found": "select_one yes_no",
            "evidence": "select_one evidence",
            "device_categories": "select_multiple device_category",
            "evidence_photo": "image",
            "land_use": "select_one land_use",
            "beneficiaries": "integer",
            "outcome": "select_one nts_outcome",
            "cancelled_shape": "geoshape",
            "benchmark": "geopoint",
            "marking": "select_one marking",
            "notes": "text",
        },
        repeats={
            "informants": {
                "informant_role": "select_one informant_role",
                "informant_statement": "text",
            },
        },
    ),
    "ts": FormFields(
        form_id="sapper_ts",
        added=frozenset({"task_order"}),  # version 2026120702
        fields={
            "start": "start",
            "end": "end",
            "survey_date": "date",
            "organisation_id": "text",
            "team_id": "text",
            "hazard_id": "text",
            "task_order": "text",
            "ts_type": "select_one ts_type",
            "method": "select_one method",
            "reduced_shape": "geoshape",
            "devices_found": "select_one yes_no",
            "benchmark": "geopoint",
            "marking": "select_one marking",
            "notes": "text",
        },
        repeats={"devices": _DEVICES},
    ),
    "clearance": FormFields(
        form_id="sapper_clearance",
        added=frozenset({"task_order"}),  # version 2026120701 (clearance, brigade), 2026120702 (nts, ts)
        fields={
            "start": "start",
            "end": "end",
            "work_date": "date",
            "organisation_id": "text",
            "team_id": "text",
            "hazard_id": "text",
            "task_order": "text",
            "method": "select_one method",
            "cleared_m2": "decimal",
            "cleared_shape": "geoshape",
            "clearance_depth_cm": "integer",
            "deminers_working": "integer",
            "hours_worked": "decimal",
            "devices_found": "select_one yes_no",
            "notes": "text",
        },
        repeats={"devices": _DEVICES},
    ),
    "accident": FormFields(
        form_id="sapper_accident",
        fields={
            "start": "start",
            "end": "end",
            "accident_date": "date",
            "accident_location": "geopoint",
            "place_description": "text",
            "accident_type": "select_one accident_type",
            "organisation_id": "text",
            "hazard_id": "text",
            "device_category": "select_one accident_device",
            "device_type": "text",
            "description": "text",
            "victim_count": "integer",
        },
        repeats={
            "victims": {
                "victim_name": "text",
                "victim_gender": "select_one gender",
                "victim_birth_date": "date",
                "victim_outcome": "select_one victim_outcome",
                "victim_activity": "select_one victim_activity",
            },
        },
        sensitive=frozenset({"victim_name", "victim_gender", "victim_birth_date", "victim_outcome",
                             "victim_activity"}),
    ),
    "brigade": FormFields(
        form_id="sapper_brigade",
        added=frozenset({"task_order"}),  # version 2026120701 (clearance, brigade), 2026120702 (nts, ts)
        fields={
            "start": "start",
            "end": "end",
            "work_date": "date",
            "organisation_id": "text",
            "brigade_id": "text",
            "asset_id": "text",
            "task_order": "text",
            "trade": "select_one trade",
            "builder_days": "decimal",
            "percent_complete": "integer",
            "blocked_by_hazard": "select_one yes_no",
            "blocking_hazard_id": "text",
            "blocking_location": "geopoint",
            "photo": "image",
            "notes": "text",
        },
    ),
})
