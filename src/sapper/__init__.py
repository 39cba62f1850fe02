"""sapper: mine-action and reconstruction planning.

Keeps the register of hazardous areas and damaged assets, and plans deminer teams and builder brigades so that
repair work starts only on released land.
"""

__version__ = "0.1.0"
