"""The `matchmaker` command line (Typer): one module per group of commands."""

import typer

from api.cli import (
    admin,
    core,
    deals,
    digests,
    evaluation,
    ingest,
    listing,
    match,
    offline,
    policy,
    roadshow,
)

app = typer.Typer(
    name="matchmaker",
    help="科技金融服务中心撮合引擎 — techfin-matchmaker",
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
digests.register(app)
listing.register(app)
policy.register(app)
offline.register(app)

__all__ = ["app"]
