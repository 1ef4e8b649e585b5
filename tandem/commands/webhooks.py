"""`tandem webhooks ...`: partner sources allowed to send us signed webhooks."""

from __future__ import annotations

import json

import typer

from shared.db import Database, migrate
from shared.runtime import IDENTITY_MIGRATIONS
from shared.settings import ServiceSettings
from shared.webhooks.inbound import register_source

NAME = "webhooks"
app = typer.Typer(
    help="Inbound webhook sources (outbound endpoints are managed over /v1/webhooks).", no_args_is_help=True
)


@app.command("add-source")
def add_source(org: str, name: str) -> None:
    """Register a partner platform for an organisation; prints its source id and signing secret once."""
    url = ServiceSettings().effective_auth_database_url
    migrate(url, IDENTITY_MIGRATIONS)
    source_id, secret = register_source(Database(url), org, name)
    typer.echo(json.dumps({"org_id": org, "source_id": source_id, "secret": secret}))
