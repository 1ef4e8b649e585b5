"""`tandem keys ...`: issue, list, rotate and revoke API keys in the identity database."""

from __future__ import annotations

import json
from datetime import timedelta

import typer

from shared.db import Database, migrate
from shared.identity.keys import ROLES, KeyStore
from shared.runtime import IDENTITY_MIGRATIONS
from shared.settings import ServiceSettings

NAME = "keys"
app = typer.Typer(help="API keys: one organisation and one role per key.", no_args_is_help=True)


def _store() -> KeyStore:
    url = ServiceSettings().effective_auth_database_url
    migrate(url, IDENTITY_MIGRATIONS)
    return KeyStore(Database(url), cache_ttl_s=0)


@app.command()
def create(org: str, role: str = typer.Option(..., help=" | ".join(ROLES)),
           name: str = typer.Option("", help="What the key is for."), days: int = typer.Option(0, help="Lifetime; 0 = none."),
           person: str = typer.Option("", help="Bind the key to this person (a reviewer id): judgements made with it are theirs.")
           ) -> None:  # fmt: skip
    """Issue a key; the token is printed once and never stored."""
    if role not in ROLES:
        typer.echo(f"error: unknown role {role!r}; roles are {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    lifetime = timedelta(days=days) if days else None
    token = _store().issue(org, role, name or f"{role} key", lifetime, person=person or None)
    typer.echo(json.dumps({"org_id": org, "role": role, "person": person or None, "api_key": token}))


@app.command("list")
def list_keys(org: str = typer.Option("", help="Only this organisation's keys.")) -> None:
    for k in _store().list_keys(org or None):
        state = (
            "revoked"
            if k.revoked_at
            else (f"expires {k.expires_at:%Y-%m-%d %H:%M}" if k.expires_at else "active")
        )
        typer.echo(f"{k.key_id}  {k.org_id:<16} {k.role:<11} {k.person or '-':<24} {state:<24} {k.name}")


@app.command()
def rotate(
    key_id: str, grace_hours: int = typer.Option(24, help="How long the old key keeps working.")
) -> None:
    """A replacement key; the old one expires after the grace period."""
    token = _store().rotate(key_id, timedelta(hours=grace_hours))
    typer.echo(json.dumps({"replaces": key_id, "api_key": token, "old_key_expires_in_hours": grace_hours}))


@app.command()
def revoke(key_id: str) -> None:
    _store().revoke(key_id)
    typer.echo(json.dumps({"revoked": key_id}))
