"""Who decides: people for strategic campaigns; for volume ones, the policy decides the confident cases.

As in Amazon A2I, confident machine decisions are still sampled for a human audit, and the sample is
deterministic (a hash of campaign and creator) so the same input always selects the same audits.

Confidence is an input: the policy only decides a finalist whose data it can trust. Low-confidence data,
an open fraud anomaly or a stale fraud check (`doubts`), and a first-time creator where the brand's
policy says so, send a finalist the scores would decide to people instead, with the reason shown.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.events import ShortlistEntry
from shared.vocabulary import CampaignTier, Decision


@dataclass(frozen=True)
class Policy:
    auto_approve_min_match: float
    auto_approve_max_fraud: float
    auto_reject_min_fraud: float
    audit_sample_rate: float
    first_time_to_people: bool = False


@dataclass(frozen=True)
class Route:
    kind: str  # "human" or "auto"
    reason: str
    decision: Decision | None = None


# The reason prefix of a finalist sent to people because its data could not be trusted (counted by the
# manager view's simulator).
DOUBT = "low confidence"


def doubts(
    entry: ShortlistEntry,
    *,
    open_anomalies: int,
    fraud_scored_at: datetime | None,
    now: datetime,
    max_fraud_age: timedelta,
) -> list[str]:
    """Why the data behind a finalist is too uncertain for the policy to decide it; empty when it is not.
    `fraud_scored_at` is the score this service saw, used when the shortlist does not say."""
    out = list(entry.confidence_notes)
    if open_anomalies:
        out.append(
            f"{open_anomalies} open fraud anomal{'y' if open_anomalies == 1 else 'ies'} not yet reviewed"
        )
    scored = entry.fraud_scored_at or fraud_scored_at
    if entry.fraud_risk is not None and scored is not None:
        if scored < entry.data_as_of:
            out.append(f"stale fraud check: scored {scored:%Y-%m-%d %H:%M} before the data changed")
        elif now - scored > max_fraud_age:
            out.append(f"stale fraud check: scored {(now - scored).days} days ago")
    return out


def route(
    entry: ShortlistEntry,
    tier: CampaignTier,
    policy: Policy,
    *,
    first_time: bool = False,
    doubted: list[str] | None = None,
) -> Route:
    """The route of one finalist; `first_time` means we have never worked with the creator, `doubted`
    lists why its data cannot be trusted (`doubts`): then people decide, never the policy."""
    if tier == "strategic":
        return Route("human", "strategic campaign: every finalist is reviewed by people")
    risk, match = entry.fraud_risk, entry.match_score
    if risk is None:
        return Route("human", "not yet scored for fraud")
    scored = _by_scores(match, risk, policy)
    if scored.decision is None:  # people decide anyway; say what else is doubtful
        return Route("human", f"{scored.reason}; {DOUBT}: {'; '.join(doubted)}"[:500]) if doubted else scored
    if first_time and policy.first_time_to_people and scored.decision == "approve":
        doubted = [*(doubted or []), "first-time creator: no history with us, so a person approves"]
    if doubted:  # the scores would decide, but the data behind them cannot be trusted
        return Route("human", f"{DOUBT}: {'; '.join(doubted)}"[:500])
    return scored


def _by_scores(match: float, risk: float, policy: Policy) -> Route:
    """What the policy would do on the scores alone."""
    if risk >= policy.auto_reject_min_fraud:
        return Route("auto", f"fraud risk {risk:.2f} >= {policy.auto_reject_min_fraud:.2f}", "reject")
    if match >= policy.auto_approve_min_match and risk <= policy.auto_approve_max_fraud:
        reason = (
            f"confident: match {match:.2f} >= {policy.auto_approve_min_match:.2f} and "
            f"fraud risk {risk:.2f} <= {policy.auto_approve_max_fraud:.2f}"
        )
        return Route("auto", reason, "approve")
    return Route(
        "human", f"uncertain: match {match:.2f}, fraud risk {risk:.2f} outside the auto-decision band"
    )


def in_audit_sample(campaign_id: str, creator_id: str, rate: float) -> bool:
    """Deterministic Bernoulli(rate) draw keyed by campaign and creator."""
    digest = hashlib.sha256(f"{campaign_id}:{creator_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def audit_sample(campaign_id: str, creator_ids: list[str], size: int) -> set[str]:
    """Exactly `size` of `creator_ids` (or all, if fewer), chosen by hash rank: same input, same sample."""

    def rank(creator_id: str) -> bytes:
        return hashlib.sha256(f"{campaign_id}:{creator_id}".encode()).digest()

    return set(sorted(creator_ids, key=rank)[: max(0, size)])


def audit_size(auto_decided: int, rate: float) -> int:
    """The requested audit sample of `auto_decided` auto-decisions: rate rounded half up, at least one."""
    if auto_decided == 0 or rate <= 0:
        return 0
    return min(auto_decided, max(1, int(auto_decided * rate + 0.5)))
