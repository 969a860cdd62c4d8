"""Alembic environment: the project's metadata, batch mode on SQLite so ALTERs work there too."""

from alembic import context
from sqlalchemy.engine import Connection

import models
from models.db import foreign_keys_off_on_sqlite, make_engine

config = context.config
target_metadata = models.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    """Run against the URL the caller put on the config (or an existing connection)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn, foreign_keys_off_on_sqlite(conn):
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
