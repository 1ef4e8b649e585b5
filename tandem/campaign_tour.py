"""The demo's campaign cycle after the people's decisions: plan with people, run, results, close,
retrospective, a lesson, and the lesson on the next matching brief. Only the services' REST APIs are used.

Results are simulated from each post's own forecast with two causes put in on purpose, so the
retrospective has something real to find: one platform of the plan under-delivers (YouTube where the plan
has it: x0.45) and message B beats A (x1.3).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import httpx
import typer

MANAGER = "demo.manager@tandem"
VARIANTS = [
    {"variant_id": "A", "text": "SPF 50 that feels like nothing on your skin"},
    {"variant_id": "B", "text": "Dermatologists' pick: protect your skin every single day"},
]
# The causes the simulation puts in; the retrospective should name them without being told.
WEAK_PLATFORM_FACTOR = 0.45
VARIANT_FACTOR = {"B": 1.3}


def weak_platform(plan: dict[str, Any]) -> str:
    """The platform the simulation makes under-deliver: YouTube if the plan uses it, else its first."""
    platforms = sorted({line["platform"] for line in plan["lines"]})
    return "youtube" if "youtube" in platforms else platforms[0]


class Client(Protocol):
    http: httpx.Client
    urls: dict[str, str]


def as_manager(client: Client, method: str, service: str, path: str, body: dict[str, Any]) -> httpx.Response:
    # Open mode (the local demo): the person a judgement is recorded as is named in X-Person. With API
    # keys the manager would use a key bound to them (`tandem keys create ORG --role strategist --person`).
    return client.http.request(method, client.urls[service] + path, json=body, headers={"X-Person": MANAGER})


def _ok(r: httpx.Response) -> Any:
    r.raise_for_status()
    return r.json()


def approve_finalists(client: Client, cid: str, reviewer: str, limit: int = 8) -> int:
    """The team works through the campaign's open finalists (up to `limit`), each approved by the person it is
    assigned to (`reviewer` for unassigned ones);
    returns how many it decided. Decisions a reviewer may not make (e.g. escalations) are left open."""
    r = client.http.get(client.urls["review"] + f"/v1/tasks?campaign_id={cid}&status=open&limit=1000")
    decided = 0
    for task in [t for t in r.json() if t["route"] == "human"][:limit]:
        body = {"decision": "approve", "notes": "fits the brief; rates agreed"}
        d = client.http.post(client.urls["review"] + f"/v1/tasks/{task['task_id']}/decision", json=body,
                             headers={"X-Person": (task.get("assignees") or [reviewer])[0]})  # fmt: skip
        decided += d.status_code == 201
    return decided


def propose_plan(client: Client, cid: str, wait: Any) -> dict[str, Any]:
    """The AI's plan from the approved creators (forecast needs the brief and the approvals first)."""
    body = {"variants": VARIANTS, "why": "test which message sells sun care better"}
    summary = client.http.get(client.urls["review"] + f"/v1/campaigns/{cid}/summary").json()
    approvals = summary["decisions"].get("approve", 0)

    def all_approvals_known() -> bool:
        # Forecast learns approvals from review's events; plan once it has seen every one of them.
        r = client.http.get(client.urls["forecast"] + f"/v1/campaigns/{cid}/forecasts")
        return r.status_code == 200 and len(r.json()) >= approvals

    wait("forecast to see every approval", all_approvals_known)

    def proposed() -> dict[str, Any] | None:
        r = as_manager(client, "POST", "forecast", f"/v1/campaigns/{cid}/plan", body)
        return r.json() if r.status_code == 201 else None

    plan: dict[str, Any] = wait("the AI's content plan", proposed)
    return plan


def edit_plan(client: Client, cid: str, plan: dict[str, Any]) -> list[str]:
    """A person changes a line's message and tries an edit the plan can't take; both are reported."""
    out = []
    line = plan["lines"][0]
    other = "B" if line["variant_id"] == "A" else "A"
    body = {"variant_id": other, "why": "this creator's audience responds to expert claims"}
    edited = _ok(
        as_manager(client, "PATCH", "forecast", f"/v1/campaigns/{cid}/plan/lines/{line['line_id']}", body)
    )
    out.append(f"v{edited['version']} by {edited['changed_by']}: {edited['change']} (why: {body['why']})")
    late = date.fromisoformat(plan["lines"][-1]["scheduled_on"]) + timedelta(days=120)
    refused = as_manager(client, "PATCH", "forecast", f"/v1/campaigns/{cid}/plan/lines/{line['line_id']}",
                          {"scheduled_on": late.isoformat(), "why": "push to autumn"})  # fmt: skip
    reason = refused.json().get("detail", refused.text) if refused.status_code >= 400 else "accepted?"
    out.append(f"refused ({refused.status_code}): {reason}; the stored plan is unchanged")
    _ok(
        as_manager(
            client, "POST", "forecast", f"/v1/campaigns/{cid}/plan/approve", {"why": "budget signed off"}
        )
    )
    return out


def simulated_results(cid: str, plan: dict[str, Any], seed: int = 7) -> list[dict[str, Any]]:
    """One result per post, drawn around its own forecast, with the two causes above put in."""
    rng, weak = random.Random(seed), weak_platform(plan)
    results = []
    for line in plan["lines"]:
        fc = {m["metric"]: m for m in line["forecast"]}
        factor = (WEAK_PLATFORM_FACTOR if line["platform"] == weak else 1.0) * VARIANT_FACTOR.get(
            line["variant_id"], 1.0
        )
        reach = fc["reach"]["p50"] * factor * rng.lognormvariate(0, 0.25)
        rate = fc["engagements"]["p50"] / max(fc["reach"]["p50"], 1.0)
        engagements = min(reach, reach * rate * rng.lognormvariate(0, 0.2))
        clicks = engagements * 0.08
        posted = datetime.combine(date.fromisoformat(line["scheduled_on"]), time(19), tzinfo=UTC)
        results.append({
            "result_id": f"{cid}-{line['line_id']}", "campaign_id": cid, "creator_id": line["creator_id"],
            "platform": line["platform"], "format": line["format"], "market": line["market"],
            "line_id": line["line_id"], "variant": line["variant_id"], "reach": round(reach),
            "engagements": round(engagements), "clicks": round(clicks), "conversions": round(clicks * 0.05),
            "spend_usd": line["cost_usd"], "posted_at": posted.isoformat(),
        })  # fmt: skip
    return results


def run_and_close(client: Client, cid: str, plan: dict[str, Any], wait: Any) -> dict[str, Any]:
    """Results in (as a partner's tracking would send them), then the manager closes the campaign; returns
    the campaign as the review service shows it, retrospective included."""
    current = _ok(client.http.get(client.urls["forecast"] + f"/v1/campaigns/{cid}/plan"))
    results = simulated_results(cid, current)
    _ok(client.http.post(client.urls["forecast"] + "/v1/results", json={"results": results}))

    def tracked() -> dict[str, Any] | None:
        c = client.http.get(client.urls["review"] + f"/v1/campaigns/{cid}").json()
        return c if c.get("campaign", {}).get("results", 0) >= len(results) else None

    wait("results on the campaign record", tracked)
    _ok(as_manager(client, "POST", "review", f"/v1/campaigns/{cid}/close", {"reason": "all posts are out"}))

    def retrospective() -> dict[str, Any] | None:
        c = client.http.get(client.urls["review"] + f"/v1/campaigns/{cid}").json()
        return c if c.get("retrospective") else None

    campaign: dict[str, Any] = wait("the retrospective", retrospective)
    return campaign


def record_lesson(client: Client, cid: str, campaign: dict[str, Any]) -> dict[str, Any]:
    """The manager writes the diagnosis down as a lesson scoped to the platform that did worst against
    its forecast."""
    platforms = [c for c in campaign["retrospective"]["contributions"] if c["dimension"] == "platform"]
    worst = min(platforms, key=lambda c: c["actual"] / max(c["forecast"], 1.0))
    body = {
        "campaign_id": cid, "scope": "platform", "scope_value": worst["value"],
        "text": f"{worst['value']} reach came in far under forecast for sun care: book one test post before a full run there",
        "rule": f"{worst['value']}: halve reach forecasts for sun-care launches", "metric": "reach", "multiplier": 0.5,
    }  # fmt: skip
    lesson: dict[str, Any] = _ok(as_manager(client, "POST", "review", "/v1/lessons", body))
    return lesson


def next_brief_shows(client: Client, brief: dict[str, Any], lesson_id: str, wait: Any) -> dict[str, Any]:
    """A new brief in the lesson's scope: discovery shows the lesson on it."""

    def with_lesson() -> dict[str, Any] | None:
        r = as_manager(client, "POST", "discovery", "/v1/briefs", brief)
        r.raise_for_status()
        sl = r.json()
        return sl if any(x["insight_id"] == lesson_id for x in sl.get("lessons", [])) else None

    shortlist: dict[str, Any] = wait("the lesson on the next brief", with_lesson)
    return shortlist


def print_plan(plan: dict[str, Any], edits: list[str]) -> None:
    echo = typer.echo
    budget = plan.get("budget_usd") or 0
    echo(f"\n   Plan v{plan['version']} (proposed by the AI): {len(plan['lines'])} posts, "
         f"{plan['total_cost_usd']:,.0f} USD of {budget:,.0f} USD budget; messages A and B spread over similar creators")  # fmt: skip
    for line in plan["lines"][:4]:
        reach = next(m for m in line["forecast"] if m["metric"] == "reach")
        echo(f"     {line['scheduled_on']} {line['creator_name'] or line['creator_id']:<20} {line['platform']:<9} "
             f"{line['format']:<6} msg {line['variant_id']}  reach {reach['p50']:>9,.0f} (80%: {reach['p10']:,.0f}-{reach['p90']:,.0f})")  # fmt: skip
    if len(plan["lines"]) > 4:
        echo(f"     ... {len(plan['lines']) - 4} more posts")
    for e in edits:
        echo(f"   Edit: {e}")


def print_outcome(
    campaign: dict[str, Any], plan: dict[str, Any], lesson: dict[str, Any], next_sl: dict[str, Any]
) -> None:
    echo = typer.echo
    c, retro = campaign["campaign"], campaign["retrospective"]
    names = {line["creator_id"]: line["creator_name"] for line in plan["lines"] if line.get("creator_name")}
    echo(f"\n   Live and closed: spend {c['spend_usd']:,.0f} USD of {c.get('budget_usd') or 0:,.0f} USD; "
         f"{retro['metric']} {retro['actual_total']:,.0f} against a forecast of {retro['forecast_total']:,.0f} "
         f"({retro['actual_total'] / max(retro['forecast_total'], 1) - 1:+.0%}); {len(campaign['alerts'])} alerts")  # fmt: skip
    echo("   Retrospective, largest contributors to the miss:")
    for x in retro["contributions"][:4]:
        echo(f"     {x['dimension']:<8} {names.get(x['value'], x['value']):<22} forecast {x['forecast']:>10,.0f}  actual {x['actual']:>10,.0f}  "
             f"miss {x['miss']:>+10,.0f} ({x['share_of_miss']:+.0%} of the total)")  # fmt: skip
    if retro.get("message_summary"):
        echo(f"   Messages: {retro['message_summary']}")
    echo(f"   Lesson by {lesson['author']}: {lesson['text']} (rule: {lesson['rule']})")
    shown = next_sl.get("lessons", [])
    echo(
        f"   Next brief '{next_sl.get('campaign_id')}': {len(shown)} lesson(s) shown to its team, e.g. \"{shown[0]['text']}\""
    )
