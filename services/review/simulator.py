"""The policy simulator: from campaigns a month, finalists, tier mix and team, the human workload.

A closed-form model a manager can check by hand. Strategic finalists need `strategic_reviewers` reviews
each plus an escalation review when they disagree; volume finalists go to people at `volume_to_people`
(uncertain, risky), then `low_confidence_share` of the ones the policy could decide go to people anyway
(low-confidence data, first-time creators, open anomalies, stale fraud checks: routing.doubts), and
`audit_sample_rate` of the rest are audited. Supply is the team's
daily capacity over the working days. Backlog is demand the month could not absorb.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class TeamMember(BaseModel):
    count: int = Field(1, ge=0, le=1000)
    daily_capacity: int = Field(ge=1, le=500)
    employment: str = "in_house"


class SimulationIn(BaseModel):
    campaigns_per_month: float = Field(50, ge=0, le=10_000)
    finalists_per_campaign: float = Field(20, ge=0, le=1000)
    strategic_share: float = Field(0.2, ge=0, le=1, description="Share of campaigns on the strategic tier.")
    volume_to_people: float = Field(0.35, ge=0, le=1, description="Share of volume finalists sent to people.")
    low_confidence_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the rest that the policy may not decide: low-confidence data, "
        "first-time creators, open anomalies, stale fraud checks (they go to people too).",
    )
    audit_sample_rate: float = Field(0.1, ge=0, le=1)
    strategic_reviewers: int = Field(2, ge=1, le=3)
    disagreement_rate: float = Field(0.15, ge=0, le=1, description="Strategic finalists that escalate.")
    minutes_per_review: float = Field(12, gt=0, le=480)
    working_days: int = Field(21, ge=1, le=31)
    team: list[TeamMember] = Field(default_factory=lambda: [TeamMember(count=4, daily_capacity=25)])


class SimulationOut(BaseModel):
    finalists: float
    strategic_finalists: float
    volume_finalists: float
    auto_decided: float
    low_confidence: float = Field(0.0, description="Volume finalists sent to people because of doubts.")
    reviews: float = Field(description="Human reviews a month, escalations and audits included.")
    share_to_people: float = Field(description="Share of finalists that at least one person sees.")
    hours: float
    capacity: float = Field(description="Reviews the team can do in a month.")
    utilisation: float | None = Field(
        description="Reviews / capacity; null when there are reviews and no capacity at all (JSON has no infinity)."
    )
    backlog: float = Field(description="Reviews left over at the end of the month.")
    backlog_days: float = Field(description="Working days the backlog would take the team to clear.")


def simulate(p: SimulationIn) -> SimulationOut:
    finalists = p.campaigns_per_month * p.finalists_per_campaign
    strategic = finalists * p.strategic_share
    volume = finalists - strategic
    uncertain = volume * p.volume_to_people
    doubted = (volume - uncertain) * p.low_confidence_share
    to_people = uncertain + doubted
    auto = volume - to_people
    audits = auto * p.audit_sample_rate
    reviews = strategic * (p.strategic_reviewers + p.disagreement_rate) + to_people + audits
    daily = sum(m.count * m.daily_capacity for m in p.team)
    capacity = daily * p.working_days
    backlog = max(0.0, reviews - capacity)
    return SimulationOut(
        finalists=finalists,
        strategic_finalists=strategic,
        volume_finalists=volume,
        auto_decided=auto,
        low_confidence=doubted,
        reviews=reviews,
        share_to_people=(strategic + to_people + audits) / finalists if finalists else 0.0,
        hours=reviews * p.minutes_per_review / 60,
        capacity=capacity,
        utilisation=reviews / capacity if capacity else None if reviews else 0.0,
        backlog=backlog,
        backlog_days=backlog / daily if daily else 0.0,
    )


def mix_table(
    p: SimulationIn, shares: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
) -> list[tuple[float, SimulationOut]]:
    """The same month at several tier mixes, so a manager can pick one the team can carry."""
    return [(s, simulate(p.model_copy(update={"strategic_share": s}))) for s in shares]
