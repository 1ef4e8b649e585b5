"""`tandem webhooks ...`: partner sources allowed to send us signed webhooks."""

from __future__ import annotations

import typer

from shared.db import Database, migrate
from shared.runtime import IDENTITY_MIGRATIONS
from shared.settings import ServiceSettings
from shared.webhooks.inbound import register_source
from tandem.output import JsonFlag, emit, note, pairs

NAME = "webhooks"
app = typer.Typer(
    help="Inbound webhook sources (outbound endpoints are managed over /v1/webhooks).", no_args_is_help=True
)


@app.command("add-source")
def add_source(org: str, name: str, as_json: JsonFlag = False) -> None:
    """Register a partner platform for an organisation; prints its source id and signing secret once."""
    url = ServiceSettings().effective_auth_database_url
    migrate(url, IDENTITY_MIGRATIONS)
    source_id, secret = register_source(Database(url), org, name)
    emit({"org_id": org, "source_id": source_id, "secret": secret}, as_json, _describe)
    if not as_json:
        note("The secret is shown only this once: give it to the partner now (it cannot be read back).")


def _describe(source: dict[str, str]) -> str:
    sid = source["source_id"]
    details = pairs({"organisation": source["org_id"], "source id": sid, "signing secret": source["secret"]})
    return (
        f"New webhook source:\n{details}\n"
        f"The partner posts signed webhooks (Standard Webhooks) to /v1/inbound/{sid}/results (forecast)\n"
        f"or /v1/inbound/{sid}/creators (discovery)."
    )
