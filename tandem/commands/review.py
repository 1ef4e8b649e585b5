"""`tandem review ...`: the review team, the policy simulator, the overdue sweep, the portfolio and closing
a campaign."""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import typer

from services.review.simulator import SimulationIn, TeamMember, mix_table, simulate
from tandem.output import JsonFlag, emit, pairs

NAME = "review"
app = typer.Typer(help="Review: reviewers, the policy simulator, the overdue sweep.", no_args_is_help=True)

UrlOpt = Annotated[str, typer.Option(envvar="TANDEM_REVIEW_URL", help="Base URL of the review service.")]
OrgOpt = Annotated[str, typer.Option(help="Organisation (X-Org-Id).")]


@app.command("add-reviewer")
def add_reviewer(
    reviewer_id: Annotated[str, typer.Argument(help="Sign-in id, e.g. an e-mail address.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    market: Annotated[list[str], typer.Option(help="A market covered (repeat: --market US --market GB).")],
    language: Annotated[list[str] | None, typer.Option(help="A language spoken (repeat).")] = None,
    freelance: Annotated[bool, typer.Option(help="Freelance expert rather than in-house staff.")] = False,
    capacity: Annotated[int, typer.Option(help="Tasks a day.")] = 20,
    manager: Annotated[bool, typer.Option(help="Sees every queue and decides escalations.")] = False,
    password: Annotated[bool, typer.Option(help="Prompt for a web sign-in password.")] = False,
    url: UrlOpt = "http://127.0.0.1:8004",
    org: OrgOpt = "demo",
) -> None:
    """Create or update a reviewer (and, with --password, their web sign-in)."""
    body: dict[str, object] = {
        "name": name,
        "markets": market,
        "languages": language or [],
        "employment": "freelance" if freelance else "in_house",
        "daily_capacity": capacity,
        "is_manager": manager,
    }
    if password:
        body["password"] = typer.prompt("Password (8+ characters)", hide_input=True, confirmation_prompt=True)
    r = httpx.put(f"{url}/v1/reviewers/{reviewer_id}", json=body, headers={"X-Org-Id": org}, timeout=10)
    if r.status_code != 200:
        typer.echo(f"refused: {r.json().get('detail', r.text)}", err=True)
        raise typer.Exit(1)
    typer.echo(f"reviewer {reviewer_id} covers {', '.join(market)}; sign in at {url}/app/login")


@app.command("simulate")
def simulate_policy(
    campaigns: Annotated[float, typer.Option(help="Campaigns a month.")] = 50,
    finalists: Annotated[float, typer.Option(help="Finalists per campaign.")] = 20,
    strategic_share: Annotated[float, typer.Option(help="Share of campaigns on the strategic tier.")] = 0.2,
    volume_to_people: Annotated[float, typer.Option(help="Share of volume finalists sent to people.")] = 0.35,
    audit_rate: Annotated[float, typer.Option(help="Audit sample rate of auto-decisions.")] = 0.1,
    low_confidence: Annotated[
        float,
        typer.Option(
            help="Share of the decidable volume finalists sent to people anyway: thin data, first-time, open anomaly, stale fraud check."
        ),
    ] = 0.0,
    in_house: Annotated[int, typer.Option(help="In-house reviewers.")] = 4,
    freelance: Annotated[int, typer.Option(help="Freelance reviewers.")] = 0,
    capacity: Annotated[int, typer.Option(help="Daily capacity of each reviewer.")] = 25,
) -> None:
    """Human workload, backlog and share to people for a month, at the given mix and at other mixes."""
    team = [TeamMember(count=in_house, daily_capacity=capacity),
            TeamMember(count=freelance, daily_capacity=capacity, employment="freelance")]  # fmt: skip
    p = SimulationIn(campaigns_per_month=campaigns, finalists_per_campaign=finalists, strategic_share=strategic_share,
                     volume_to_people=volume_to_people, audit_sample_rate=audit_rate, team=team,
                     low_confidence_share=low_confidence)  # fmt: skip
    r = simulate(p)
    typer.echo(
        f"{r.finalists:,.0f} finalists -> {r.reviews:,.0f} human reviews ({r.hours:,.0f} h), "
        f"{r.share_to_people:.0%} seen by people ({r.low_confidence:,.0f} for low confidence); capacity {r.capacity:,.0f} ({r.utilisation:.0%} used); "
        f"backlog {r.backlog:,.0f} ({r.backlog_days:.1f} days)"
    )
    typer.echo("strategic share | reviews | to people | utilisation | backlog")
    for share, row in mix_table(p):
        typer.echo(
            f"{share:>15.0%} | {row.reviews:>7,.0f} | {row.share_to_people:>9.0%} | "
            f"{row.utilisation:>11.0%} | {row.backlog:>7,.0f}"
        )


@app.command()
def sweep(url: UrlOpt = "http://127.0.0.1:8004", org: OrgOpt = "demo", as_json: JsonFlag = False) -> None:
    """Escalate the organisation's overdue tasks and assign waiting ones now (the service also does this
    periodically for every organisation)."""
    r = httpx.post(f"{url}/v1/sweep", headers={"X-Org-Id": org}, timeout=30)
    r.raise_for_status()
    emit(r.json(), as_json, lambda done: pairs(done, "sweep done:"))


KeyOpt = Annotated[
    str | None, typer.Option(envvar="TANDEM_API_KEY", help="API key (the close is recorded as its person).")
]


def _headers(org: str, api_key: str | None) -> dict[str, str]:
    return {"X-Org-Id": org, **({"X-API-Key": api_key} if api_key else {})}


def _answer(r: httpx.Response) -> dict[str, Any]:
    """The JSON answer, or a one-line reason and exit 1 (never a traceback)."""
    if r.status_code >= 400:
        try:
            body = r.json()
        except ValueError:
            body = {"detail": r.text[:200]}
        errors = "; ".join(f"{e.get('field')}: {e.get('reason')}" for e in body.get("errors", []))
        typer.echo(f"refused ({r.status_code}): {errors or body.get('detail', '')}", err=True)
        raise typer.Exit(1)
    data: dict[str, Any] = r.json()
    return data


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.0f}"


@app.command("portfolio")
def portfolio(
    brand: Annotated[str, typer.Option(help="Only this brand.")] = "",
    market: Annotated[str, typer.Option(help="Only campaigns targeting this market.")] = "",
    tier: Annotated[str, typer.Option(help="strategic or volume.")] = "",
    stage: Annotated[str, typer.Option(help="brief, shortlist, review, planning, live or closed.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON, for programs.")] = False,
    url: UrlOpt = "http://127.0.0.1:8004",
    org: OrgOpt = "demo",
    api_key: KeyOpt = None,
) -> None:
    """Every campaign: stage, spend vs budget, results vs forecast, review backlog, alerts."""
    params: dict[str, str | int] = {
        "brand": brand,
        "market": market,
        "tier": tier,
        "stage": stage,
        "page_size": 200,
    }
    try:
        r = httpx.get(f"{url}/v1/campaigns", params=params, headers=_headers(org, api_key), timeout=30)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach the review service at {url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    out = _answer(r)
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    typer.echo(f"{out['total']} campaign(s)")
    typer.echo(f"{'campaign':<28} {'brand':<14} {'stage':<9} {'spend / budget':>20} {'vs forecast':>11} "
               f"{'backlog':>8} {'overdue':>8} {'alerts':>6}")  # fmt: skip
    for c in out["campaigns"]:
        ratio = "-" if c["results_vs_forecast"] is None else f"{c['results_vs_forecast']:.2f}x"
        money = f"{_money(c['spend_usd'])} / {_money(c['budget_usd'])}"
        typer.echo(f"{c['name'][:28]:<28} {c['brand'][:14]:<14} {c['stage']:<9} {money:>20} {ratio:>11} "
                   f"{c['backlog']:>8} {c['overdue_tasks']:>8} {c['open_alerts']:>6}")  # fmt: skip


@app.command("close")
def close(
    campaign_id: Annotated[str, typer.Argument(help="The campaign to close.")],
    reason: Annotated[str, typer.Option(help="Why it closes now.")] = "",
    url: UrlOpt = "http://127.0.0.1:8004",
    org: OrgOpt = "demo",
    api_key: KeyOpt = None,
) -> None:
    """Close a campaign (the forecast service then computes its retrospective); closing twice is a no-op."""
    try:
        r = httpx.post(f"{url}/v1/campaigns/{campaign_id}/close", json={"reason": reason},
                       headers=_headers(org, api_key), timeout=30)  # fmt: skip
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach the review service at {url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    out = _answer(r)
    if out["closed"]:
        typer.echo(f"{campaign_id} closed by {out['closed_by']}; the retrospective follows")
    else:
        typer.echo(f"{campaign_id} was already closed (by {out['closed_by']}); nothing changed")
