"""Builders shared by the review tests: shortlists, plans, reviewers, and reading the staged events."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from services.review import reviewers, tasks
from services.review.models import ReviewTask
from services.review.routing import Policy
from services.review.schemas import ReviewerIn
from shared.bus.outbox import Outbox
from shared.bus.tables import OutboxMessage
from shared.db import Database
from shared.events import (
    CreatorSnapshot,
    Event,
    MarketStats,
    ShortlistEntry,
    ShortlistPublished,
    parse_envelope,
    unwrap,
)

ORG = "acme"
DUE = {"strategic": 48, "volume": 24, "audit": 72}


def plan(policy: Policy, strategic_reviewers: int = 2) -> tasks.Plan:
    return tasks.Plan(policy, DUE, strategic_reviewers)


def entry(rank: int, creator_id: str, match: float, risk: float | None, home: str = "US") -> ShortlistEntry:
    creator = CreatorSnapshot(
        creator_id=creator_id, name=creator_id, home_market=home, platform="instagram", followers=20_000,
        engagement_rate=0.02, audience=[MarketStats(market=home, audience_share=0.8, engagement_rate=0.02)],
    )  # fmt: skip
    return ShortlistEntry(rank=rank, creator=creator, match_score=match, fraud_risk=risk, reasons=[],
                          data_as_of=datetime.now(UTC))  # fmt: skip


def shortlist(
    entries: list[ShortlistEntry],
    tier: str = "volume",
    campaign_id: str = "cmp-1",
    markets: list[str] | None = None,
) -> ShortlistPublished:
    return ShortlistPublished.model_validate({
        "shortlist_id": f"sl-{campaign_id}", "campaign_id": campaign_id, "brief_name": "spring", "tier": tier,
        "target_markets": markets or ["US"], "model_name": "ranking", "model_version": "1",
        "entries": [e.model_dump() for e in entries], "created_at": datetime.now(UTC),
    })  # fmt: skip


def add_reviewer(
    db: Database,
    reviewer_id: str,
    markets: list[str] | None = None,
    capacity: int = 50,
    manager: bool = False,
) -> None:
    body = ReviewerIn(name=reviewer_id.title(), markets=markets or ["US"], languages=["en"],
                      daily_capacity=capacity, is_manager=manager)  # fmt: skip
    with db.transaction() as session:
        reviewers.upsert(session, ORG, reviewer_id, body)


def create(db: Database, outbox: Outbox, sl: ShortlistPublished, policy: Policy) -> list[ReviewTask]:
    with db.transaction() as session:
        return tasks.create_tasks(session, ORG, sl, plan(policy), outbox)


def events(db: Database) -> list[Event]:
    with db.transaction() as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
        return [unwrap(parse_envelope(r.value)) for r in rows]
