"""The `matchmaker` command line (Typer): one module per group of commands."""

from typing import Any

import typer
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup

from cli import (
    admin,
    core,
    deals,
    demands,
    digests,
    evaluation,
    ingest,
    institutions,
    listing,
    match,
    offline,
    policy,
    roadshow,
    staff,
)
from models.db import make_engine
from models.errors import DomainError
from models.migrate import schema_problem
from models.settings import get_settings

HELP_OPTION_HELP = "显示本帮助并退出。"


def schema_error() -> str | None:
    """After an SQL error: the Chinese line when the database lacks the newest schema (SQLite's
    "no such table", PostgreSQL's UndefinedTable, a missing column …), else None."""
    try:
        engine = make_engine(get_settings().database_url)
        try:
            return schema_problem(engine)
        finally:
            engine.dispose()
    except Exception:  # the database cannot even be asked: the original error stands
        return None


def _chinese_help_option(command: Any) -> None:
    """Give `--help` on `command` (a Typer/click command) and every command below it a Chinese
    help text (the one click builds is "Show this message and exit.")."""
    original = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = original(ctx)
        if option is not None:
            option.help = HELP_OPTION_HELP
        return option

    command.get_help_option = get_help_option
    for child in getattr(command, "commands", {}).values():
        _chinese_help_option(child)


class MatchmakerGroup(TyperGroup):
    """The root group: a command a service refuses (a `DomainError`: nothing is written), or one
    run on a database without the schema (or with an older one), ends with one Chinese line and
    exit code 2, never a traceback; `--help` is Chinese too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _chinese_help_option(self)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            typer.echo(f"错误：{exc.message}", err=True)
            raise typer.Exit(2) from None
        except DBAPIError:  # OperationalError, ProgrammingError …
            line = schema_error()
            if line is None:
                raise
            typer.echo(f"错误：{line}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    name="matchmaker",
    help="科技金融服务中心撮合引擎 — techfin-matchmaker",
    cls=MatchmakerGroup,
    no_args_is_help=True,
    add_completion=False,
)
core.register(app)
admin.register(app)
ingest.register(app)
evaluation.register(app)
roadshow.register(app)
match.register(app)
deals.register(app)
demands.register(app)
digests.register(app)
listing.register(app)
policy.register(app)
offline.register(app)
institutions.register(app)
staff.register(app)

__all__ = ["app"]
