"""What ``sapper user …`` declares as its options: the users' roles and how long an API token lives by default.

Apart from :mod:`sapper.services.accounts`, which imports the store (SQLAlchemy and Alembic): the command line builds
every command's options at start-up, ``sapper --help`` included, and need not pay for the store to name the roles.
"""

from sapper.domain.roles import Role

#: How long an API token lives unless told otherwise.
TOKEN_DAYS = 90

__all__ = ["TOKEN_DAYS", "Role"]
