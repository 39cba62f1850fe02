"""The roles of the register's users, apart from :mod:`sapper.domain.users` (which needs the hazards, hence NumPy,
Shapely and pyproj): the command line names the roles in its options at every start-up, ``sapper --help`` included.
"""

from enum import StrEnum


class Role(StrEnum):
    """What a user may do. ``admin`` and ``im-officer`` manage the register; ``planner`` edits and plans; ``field``
    edits activities and submits field data; ``viewer`` reads, and sees hazard geometry only generalised."""

    ADMIN = "admin"
    IM_OFFICER = "im-officer"
    PLANNER = "planner"
    FIELD = "field"
    VIEWER = "viewer"
