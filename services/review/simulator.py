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
    """A group of alike reviewers in the simulated team."""

    count: int = Field(1, ge=0, le=1000, description="How many people of this kind.")
    daily_capacity: int = Field(ge=1, le=500, description="Reviews each can do a day.")
    employment: str = Field("in_house", description="in_house or freelance.")


SIMULATION_IN_EXAMPLE = {
    "campaigns_per_month": 50,
    "finalists_per_campaign": 20,
    "strategic_share": 0.2,
    "team": [
        {"count": 4, "daily_capacity": 25, "employment": "in_house"},
        {"count": 2, "daily_capacity": 15, "employment": "freelance"},
    ],
}


class SimulationIn(BaseModel, json_schema_extra={"examples": [SIMULATION_IN_EXAMPLE]}):
    """A month of review work to simulate (what-if for staffing and routing thresholds)."""

    campaigns_per_month: float = Field(50, ge=0, le=10_000, description="Campaigns briefed a month.")
    finalists_per_campaign: float = Field(20, ge=0, le=1000, description="Shortlisted creators per campaign.")
    strategic_share: float = Field(0.2, ge=0, le=1, description="Share of campaigns on the strategic tier.")
    volume_to_people: float = Field(0.35, ge=0, le=1, description="Share of volume finalists sent to people.")
    low_confidence_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the rest that the policy may not decide: low-confidence data, "
        "first-time creators, open anomalies, stale fraud checks (they go to people too).",
    )
    audit_sample_rate: float = Field(
        0.1, ge=0, le=1, description="Share of automatic decisions a person audits, 0-1."
    )
    strategic_reviewers: int = Field(
        2, ge=1, le=3, description="People who review each strategic finalist (1-3)."
    )
    disagreement_rate: float = Field(0.15, ge=0, le=1, description="Strategic finalists that escalate.")
    minutes_per_review: float = Field(12, gt=0, le=480, description="Minutes one review takes.")
    working_days: int = Field(21, ge=1, le=31, description="Working days in the month.")
    team: list[TeamMember] = Field(
        default_factory=lambda: [TeamMember(count=4, daily_capacity=25)], description="The review team."
    )


class SimulationOut(BaseModel):
    """What the simulated month asks of the team (figures per month)."""

    finalists: float = Field(description="Finalists to decide.")
    strategic_finalists: float = Field(description="Of those, on strategic campaigns.")
    volume_finalists: float = Field(description="Of those, on volume campaigns.")
    auto_decided: float = Field(description="Finalists the routing policy decides.")
    low_confidence: float = Field(0.0, description="Volume finalists sent to people because of doubts.")
    reviews: float = Field(description="Human reviews a month, escalations and audits included.")
    share_to_people: float = Field(description="Share of finalists that at least one person sees.")
    hours: float = Field(description="Hours of reviewing needed.")
    capacity: float = Field(description="Reviews the team can do in a month.")
    utilisation: float | None = Field(
        description="Reviews needed / team capacity (above 1 means a growing backlog); null when there are "
        "reviews and no capacity at all (JSON has no infinity)."
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
