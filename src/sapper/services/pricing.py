"""The programme's pricing profile for the entry points: the shipped default, or a file (``--pricing``)."""

from __future__ import annotations

from pathlib import Path

from sapper.domain.pricing import PricingProfile
from sapper.io.pricing import load_pricing as _load


def load_pricing(path: str | Path | None = None) -> PricingProfile:
    """The pricing profile in ``path`` (None: sapper's default, ``sapper/io/data/pricing.toml``)."""
    return _load(path)
