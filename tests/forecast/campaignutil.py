"""Campaign test helpers: a campaign opened, creators approved, events applied through the real handlers."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import select

from services.forecast.consumers import handlers
from shared.bus.tables import OutboxMessage
from shared.events import CampaignOpened, Event, ReviewDecided, wrap
from shared.runtime import Runtime

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ORG = "acme"
CAMPAIGN = "cmp-sun"
PLATFORMS = ("instagram", "tiktok", "youtube")


def apply(runtime: Runtime, event: Event, org: str = ORG) -> None:
    envelope = wrap(event, producer="test", correlation_id="c-1", org_id=org)
    with runtime.db.transaction() as session:
        handlers(runtime)[event.event_type](session, event, envelope)


def opened(budget: float | None = 40_000.0, objective: str = "awareness", **over: Any) -> CampaignOpened:
    return CampaignOpened.model_validate({
        "campaign_id": CAMPAIGN, "name": "Sunscreen summer", "brand": "SunCo", "objective": objective,
        "category": "beauty", "tier": "volume", "markets": ["RU", "KZ"], "platforms": list(PLATFORMS),
        "budget_usd": budget, "starts_on": date(2026, 12, 7), "ends_on": date(2027, 1, 3),
        "keywords": ["sunscreen"], "owner": "olga", "opened_at": NOW, **over})  # fmt: skip


def decided(i: int, platform: str = "instagram", decision: str = "approve", followers: int | None = None,
            at: datetime = NOW, categories: list[str] | None = None) -> ReviewDecided:  # fmt: skip
    creator = {"creator_id": f"cr-{i}", "name": f"Creator {i}", "home_market": "RU", "platform": platform,
               "followers": followers or 20_000 + 7_000 * i, "engagement_rate": 0.02 + 0.002 * (i % 5),
               "categories": categories or [],
               "audience": [{"market": "RU", "audience_share": 0.6, "engagement_rate": 0.03},
                            {"market": "KZ", "audience_share": 0.2, "engagement_rate": 0.03}]}  # fmt: skip
    return ReviewDecided.model_validate({
        "decision_id": f"d-{i}-{platform}-{decision}", "task_id": f"t-{i}", "campaign_id": CAMPAIGN, "tier": "volume",
        "decision": decision, "automated": False, "decided_by": "ivan", "route_reason": "r", "match_score": 0.8,
        "target_markets": ["RU"], "creator": creator, "decided_at": at})  # fmt: skip


def campaign_with_creators(runtime: Runtime, n: int = 8, **opened_over: Any) -> None:
    apply(runtime, opened(**opened_over))
    for i in range(n):
        apply(runtime, decided(i, PLATFORMS[i % len(PLATFORMS)]))


def staged(runtime: Runtime, event_type: str) -> list[dict[str, Any]]:
    with runtime.db.transaction() as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
        envelopes = [json.loads(r.value) for r in rows]
        return [e["payload"] for e in envelopes if e["type"] == event_type]


VARIANTS = [{"variant_id": "A", "text": "SPF 50 that feels like nothing"},
            {"variant_id": "B", "text": "Doctors' pick: protect your skin every day"}]  # fmt: skip
