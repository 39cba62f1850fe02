"""One normalisation for words and field paths, with the cases each former copy handled."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from enum import StrEnum

import pytest

import sapper.domain
from sapper.domain.fielddata import find_key
from sapper.domain.text import normalise_key


@pytest.mark.parametrize("spelling", ["IED/booby trap", "ied_booby_trap", "IED / Booby-trap", " ied--booby  trap ",
                                      "_IED_booby_trap_"])
def test_a_word_is_the_same_however_spelled(spelling: str) -> None:
    """Case, spaces, hyphens, underscores and slashes (IMSMA labels, CSV and form answers) do not change a word."""
    assert normalise_key(spelling) == "ied_booby_trap"


def test_words_that_differ_stay_different() -> None:
    """Letters and digits are kept: 'CHA' is not 'SHA', 'type 1' is not 'type 2'."""
    assert normalise_key("CHA") != normalise_key("SHA")
    assert normalise_key("type 1") != normalise_key("type 2")
    assert normalise_key("Manual ") == "manual"


@pytest.mark.parametrize(("path", "key"), [
    ("site-hazard_id", "site/hazard_id"),  # ODK Central joins groups with '-'
    ("site/hazard_id", "site/hazard_id"),  # Kobo with '/'
    (" Site/Hazard_ID ", "site/hazard_id"),
    ("group-inner/field_name", "group/inner/field_name"),
])
def test_a_path_keeps_underscores_and_joins_groups_with_a_slash(path: str, key: str) -> None:
    """In a path only '-' and '/' separate groups; an underscore is part of the field's name."""
    assert normalise_key(path, path=True) == key


def test_find_key_matches_whole_names_only() -> None:
    """find_key finds a field by exact path or by its last name, never by the end of a longer name."""
    keys = dict.fromkeys(["site-hazard_id", "survey/x_hazard_id", "Site-Notes"])
    assert find_key(keys, "hazard_id") == ["site-hazard_id"]
    assert find_key(keys, "site/notes") == ["Site-Notes"]
    assert find_key(keys, "x_hazard_id") == ["survey/x_hazard_id"]


def test_no_two_members_of_a_domain_enumeration_share_a_key() -> None:
    """Every enumeration of sapper.domain keeps its members apart under the word rule (lookups never merge two)."""
    enums = {obj for info in pkgutil.iter_modules(sapper.domain.__path__)
             for _, obj in inspect.getmembers(importlib.import_module(f"sapper.domain.{info.name}"), inspect.isclass)
             if issubclass(obj, StrEnum) and obj is not StrEnum}
    assert len(enums) >= 10
    for cls in enums:
        keys = [normalise_key(m.value) for m in cls]
        assert len(set(keys)) == len(keys), f"{cls.__name__}: {keys}"
