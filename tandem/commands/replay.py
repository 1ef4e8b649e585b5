"""`tandem replay ...`: re-publish a service's current state after a broker lost events, through the
service's `POST /v1/admin/replay` (an admin key in keys mode). Consumers skip what they already applied."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import typer

from tandem.output import JsonFlag, emit

NAME = "replay"
app = typer.Typer(
    help="Re-publish a service's state after a broker lost events (consumers skip what they have).",
    no_args_is_help=True,
)

UrlOpt = Annotated[str, typer.Option(help="The service's base URL.")]
OrgOpt = Annotated[str, typer.Option(help="Organisation whose state is re-published (X-Org-Id).")]
KeyOpt = Annotated[str | None, typer.Option(envvar="TANDEM_API_KEY", help="An admin API key (keys mode).")]
SinceOpt = Annotated[datetime | None, typer.Option(help="Only state changed at or after this time (UTC).")]
UntilOpt = Annotated[datetime | None, typer.Option(help="Only state changed before this time (UTC).")]
IdsOpt = Annotated[list[str] | None, typer.Option("--id", help="Only this creator (repeat).")]


def _command(port: int) -> Callable[..., None]:
    """The command of one service: the same options, its own default URL."""

    def replay(
        url: UrlOpt = f"http://127.0.0.1:{port}",
        org: OrgOpt = "demo",
        api_key: KeyOpt = None,
        since: SinceOpt = None,
        until: UntilOpt = None,
        ids: IdsOpt = None,
        as_json: JsonFlag = False,
    ) -> None:
        emit(_replay(url, org, api_key, since, until, ids), as_json, _text)

    return replay


app.command("discovery", help="The catalogue: each creator's last update again on catalog.creators.v1 (fraud "
            "scores the ones it lost).")(_command(8001))  # fmt: skip
app.command("fraud", help="Fraud's scores: each creator's stored score again on fraud.scores.v1.")(
    _command(8002)
)


def _utc(at: datetime | None) -> str | None:
    """ISO time for the service; a time without a zone is read as UTC."""
    return None if at is None else (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()


def _replay(
    url: str,
    org: str,
    api_key: str | None,
    since: datetime | None,
    until: datetime | None,
    ids: list[str] | None,
) -> dict[str, Any]:
    body = {"since": _utc(since), "until": _utc(until), "ids": ids or None}
    headers = {"X-Org-Id": org, **({"X-API-Key": api_key} if api_key else {})}
    # Long for a large catalogue: the service waits for the broker's acknowledgement of every chunk.
    r = httpx.post(f"{url.rstrip('/')}/v1/admin/replay", json=body, headers=headers, timeout=600)
    r.raise_for_status()  # tandem.errors explains it in a line (503 while the broker is away)
    answer: dict[str, Any] = r.json()
    return answer


def _text(out: dict[str, Any]) -> str:
    return (
        f"{out['republished']:,} events re-published on {out['topic']} for {out['org_id']}; "
        "consumers skip the ones they already applied."
    )
