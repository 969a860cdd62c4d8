"""Schema management through Alembic: upgrade any database to head, tell when it is behind."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url

from models.db import foreign_keys_off_on_sqlite, normalize_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_database_url(url).replace("%", "%%"))
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database behind `engine` to the newest revision."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with (
        engine.connect() as connection,
        foreign_keys_off_on_sqlite(connection),
        connection.begin(),
    ):
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def schema_problem(engine: Engine) -> str | None:
    """A one-line Chinese reason why the database behind `engine` cannot be used yet (no schema,
    or an older one than this code's migrations), or None when it is at the newest revision.

    Commands and `serve` show it instead of the SQL error a missing table would raise."""
    url = engine.url.render_as_string(hide_password=False)
    script = ScriptDirectory.from_config(alembic_config(url))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == set(script.get_heads()):
        return None
    shown = make_url(url).render_as_string(hide_password=True)
    known = {revision.revision for revision in script.walk_revisions()}
    if current - known:  # written by a newer version of the code
        return (
            f"数据库 {shown} 的版本比本程序新（{', '.join(sorted(current - known))}），请升级本程序"
        )
    return f"数据库 {shown} 尚未建表或版本过旧，请先运行 matchmaker init-db"
