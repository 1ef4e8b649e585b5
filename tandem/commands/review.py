"""`tandem review ...`: the review team, the policy simulator and the overdue sweep."""

from __future__ import annotations

from typing import Annotated

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
