"""`tandem keys ...`: issue, list, rotate and revoke API keys in the identity database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import typer

from shared.db import Database, migrate
from shared.identity.keys import ROLES, KeyStore
from shared.runtime import IDENTITY_MIGRATIONS
from shared.settings import ServiceSettings
from tandem.output import JsonFlag, emit, note, pairs, table

NAME = "keys"
app = typer.Typer(help="API keys: one organisation and one role per key.", no_args_is_help=True)


def _store() -> KeyStore:
    url = ServiceSettings().effective_auth_database_url
    migrate(url, IDENTITY_MIGRATIONS)
    return KeyStore(Database(url), cache_ttl_s=0)


@app.command()
def create(org: str, role: str = typer.Option(..., help=" | ".join(ROLES)),
           name: str = typer.Option("", help="What the key is for."), days: int = typer.Option(0, help="Lifetime; 0 = none."),
           person: str = typer.Option("", help="Bind the key to this person (a reviewer id): judgements made with it are theirs."),
           as_json: JsonFlag = False) -> None:  # fmt: skip
    """Issue a key; the token is printed once and never stored."""
    if role not in ROLES:
        typer.echo(f"error: unknown role {role!r}; roles are {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    lifetime = timedelta(days=days) if days else None
    token = _store().issue(org, role, name or f"{role} key", lifetime, person=person or None)
    issued = {"org_id": org, "role": role, "person": person or None, "api_key": token}
    emit(issued, as_json, lambda d: pairs({"organisation": d["org_id"], "role": d["role"], "person": d["person"],
                                           "API key": d["api_key"]}, "New API key:"))  # fmt: skip
    _shown_once(as_json, "key")


def _shown_once(as_json: bool, what: str) -> None:
    if not as_json:
        note(f"The {what} is shown only this once: store it now (it cannot be read back).")


@app.command("list")
def list_keys(
    org: str = typer.Option("", help="Only this organisation's keys."), as_json: JsonFlag = False
) -> None:
    """Every key (never its token): organisation, role, person, whether it still works, what it is for."""
    keys = [{"key_id": k.key_id, "org_id": k.org_id, "role": k.role, "person": k.person,
             "state": _state(k.revoked_at, k.expires_at), "name": k.name}
            for k in _store().list_keys(org or None)]  # fmt: skip
    emit(keys, as_json, _keys_table)


def _state(revoked_at: Any, expires_at: Any) -> str:
    if revoked_at:
        return "revoked"
    return f"expires {expires_at:%Y-%m-%d %H:%M}" if expires_at else "active"


def _keys_table(keys: list[dict[str, Any]]) -> str:
    if not keys:
        return "No API keys yet (issue one with: tandem keys create ORG --role ROLE)."
    headers = ["key", "organisation", "role", "person", "state", "name"]
    return table(
        [[k["key_id"], k["org_id"], k["role"], k["person"], k["state"], k["name"]] for k in keys], headers
    )


@app.command()
def rotate(
    key_id: str,
    grace_hours: int = typer.Option(24, help="How long the old key keeps working."),
    as_json: JsonFlag = False,
) -> None:
    """A replacement key; the old one expires after the grace period."""
    token = _store().rotate(key_id, timedelta(hours=grace_hours))
    rotated = {"replaces": key_id, "api_key": token, "old_key_expires_in_hours": grace_hours}
    emit(rotated, as_json, lambda d: f"New API key replacing {key_id} (which keeps working for {grace_hours} h):\n"
                                     f"{d['api_key']}")  # fmt: skip
    _shown_once(as_json, "new key")


@app.command()
def revoke(key_id: str, as_json: JsonFlag = False) -> None:
    """Stop a key at once, in every running process."""
    _store().revoke(key_id)
    emit({"revoked": key_id}, as_json, lambda d: f"Revoked {d['revoked']}: it no longer works anywhere.")
