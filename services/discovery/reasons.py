"""Why a creator is on a shortlist, in words and numbers, each figure with the date it was last updated."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.discovery.features import Fit
from services.discovery.models import Collaboration, Relationship
from services.discovery.schemas import BriefIn
from shared.events import Reason
from shared.vocabulary import follower_tier

WENT_AHEAD = ("active", "completed", "incident")


def aware(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def engagement_reason(f: Fit, among: str, as_of: datetime | None) -> Reason:
    """Engagement among `among` (which followers it was measured on) against the tier's median."""
    tier = follower_tier(f.account.followers)
    return Reason(
        code="engagement_vs_tier",
        text=f"{f.target_er:.1%} engagement {among} vs {f.norm:.1%} median for {tier} {f.account.platform} "
        "creators",
        value=round(f.target_er, 5),
        reference=round(f.norm, 5),
        direction=1 if f.target_er >= f.norm else -1,
        as_of=as_of,
    )


def unknown_share_reasons(f: Fit, as_of: datetime | None, measured_on: date | None) -> list[Reason]:
    """A target market that a source names as the top audience country, its share not measured."""
    when = f"the source's figures of {measured_on.isoformat()}" if measured_on else "an undated source"
    markets = "/".join(f.unknown_share_markets)
    text = f"{markets} is the audience's top country in {when} (share not measured)"
    return [
        Reason(code="top_audience_country", text=text, direction=1, as_of=as_of),
        engagement_reason(f, "(all followers)", as_of),
    ]


def audience_reasons(
    brief: BriefIn, f: Fit, as_of: datetime | None, measured_on: date | None = None
) -> list[Reason]:
    if f.share_unknown:
        return unknown_share_reasons(f, as_of, measured_on)
    markets = "/".join(brief.target_markets)
    out = [
        Reason(
            code="audience_in_target",
            text=f"{f.target_share:.0%} of the audience is in {markets}",
            value=round(f.target_share, 4),
            reference=brief.min_target_share,
            direction=1,
            as_of=as_of,
        ),
    ]
    if f.target_share > 0:
        out.append(engagement_reason(f, f"among {markets} followers", as_of))
    if len(brief.target_markets) > 1:
        n, of = len(f.markets_above_norm), len(brief.target_markets)
        out.append(
            Reason(
                code="multi_market",
                text=f"engagement above the tier median in {n} of {of} target markets",
                value=n,
                reference=of,
                direction=1 if n else -1,
                as_of=as_of,
            )
        )
    return out


def fit_reasons(brief: BriefIn, f: Fit, price_usd: float | None, as_of: datetime | None) -> list[Reason]:
    out = []
    if f.category_match:
        out.append(
            Reason(code="category", text=f"creates {brief.category} content", direction=1, as_of=as_of)
        )
    if f.price_per_slot is not None and price_usd is not None:
        out.append(
            Reason(
                code="price_vs_budget",
                text=f"estimated price ${price_usd:,.0f} is {f.price_per_slot:.0%} of the per-creator budget",
                value=round(f.price_per_slot, 3),
                reference=1.0,
                direction=1 if f.price_per_slot <= 1 else -1,
                as_of=as_of,
            )
        )
    return out


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def relationship_reasons(relations: list[Relationship]) -> list[Reason]:
    """ "worked with us twice, both campaigns above forecast" from review's relationship history."""
    went = [r for r in relations if r.status in WENT_AHEAD]
    if not went:
        return []
    newest = aware(max(r.updated_at for r in went))
    measured = [r.outcome_vs_forecast for r in went if r.outcome_vs_forecast is not None]
    above = sum(o >= 1 for o in measured)
    text = f"worked with us {_times(len(went))}"
    if measured:
        both = "both" if len(measured) == 2 else ("all" if len(measured) > 2 else "")
        if above == len(measured) and both:
            text += f", {both} campaigns above forecast"
        else:
            text += f", {above} of {len(measured)} measured campaigns above forecast"
        mean = sum(measured) / len(measured)
        text += f" (mean {mean:.2f}x forecast)"
    out = [
        Reason(
            code="relationship",
            text=text,
            value=above if measured else len(went),
            reference=len(measured) if measured else None,
            direction=1 if measured and above * 2 >= len(measured) else (0 if not measured else -1),
            as_of=newest,
        )
    ]
    incidents = [i for r in went for i in r.incidents]
    if incidents:
        out.append(
            Reason(
                code="incidents",
                text=f"{len(incidents)} incident(s) in past collaborations: {'; '.join(incidents[:3])}",
                value=len(incidents),
                reference=0,
                direction=-1,
                as_of=newest,
            )
        )
    return out


def decision_reason(past: list[Collaboration]) -> list[Reason]:
    if not past:
        return []
    approved = sum(c.decision == "approve" for c in past)
    return [
        Reason(
            code="history",
            text=f"reviewed for {len(past)} of our campaigns before, approved in {approved}",
            value=approved,
            reference=len(past),
            direction=1 if approved else 0,
            as_of=aware(max(c.decided_at for c in past)),
        )
    ]
