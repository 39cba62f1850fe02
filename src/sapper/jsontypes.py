"""The one JSON type: what a ``to_json`` returns and ``json.dumps`` writes (the CLI's ``--json``, the API's bodies).

Services return typed objects; a JSON document is made from one at the edge, by the object's own ``to_json`` (or one
function beside it), and typed as :data:`JsonObject` rather than ``dict[str, Any]``, so mypy checks that only JSON
values go in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

JsonValue: TypeAlias = "str | int | float | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None"
JsonObject: TypeAlias = "dict[str, JsonValue]"
