"""Alembic environment of sapper's store.

sapper runs migrations in code (``sapper.store.engine.upgrade``) and hands over an open connection inside one
transaction (``BEGIN IMMEDIATE`` on SQLite; on PostgreSQL under an advisory lock), so a migration is all-or-nothing
on both backends. For developers, ``alembic -x db=PATH_OR_URL revision --autogenerate`` also works with a Config
pointing ``script_location`` here.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from sapper.store.schema import include_name, metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        transactional_ddl=True,
        include_name=include_name,
        compare_type=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    if context.is_offline_mode():
        raise RuntimeError("sapper's migrations need a live connection (no offline mode)")
    from sapper.store.engine import make_engine

    db = context.get_x_argument(as_dictionary=True).get("db") or config.get_main_option("sqlalchemy.url")
    if not db:
        raise RuntimeError("pass the store with: alembic -x db=PATH_OR_URL ...")
    engine = make_engine(db.removeprefix("sqlite:///"))
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(sapper_write=True)
            with conn.begin():
                run_with(conn)
    finally:
        engine.dispose()


run()
