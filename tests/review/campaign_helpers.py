"""Builders for the campaign tests: a review app on SQLite, a dispatcher fed with envelopes as the broker
would deliver them, and the campaign events other services publish."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from kafka.consumer.fetcher import ConsumerRecord

from services.review import consumers
from services.review.app import build
from services.review.config import ReviewSettings
from shared.bus.consumer import EventDispatcher
from shared.bus.provenance import PRODUCER_HEADER
from shared.events import (
    EVENT_TYPES,
    CampaignOpened,
    CampaignPlanUpdated,
    CampaignResultReported,
    Envelope,
    Event,
    MetricForecast,
    PlanLine,
    wrap,
)
from shared.identity.keys import Principal
from shared.orgs import current_principal
from shared.runtime import Runtime
from tests.busutil import SendsOneByOne, owner
from tests.review import helpers

ORG = helpers.ORG


class Acked:
    def get(self, timeout: float | None = None) -> None:
        return None


class Publisher(SendsOneByOne):
    """Only dead letters go out from a dispatcher: kept so a test can see there were none."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, topic: str, key: str, value: bytes, headers: Mapping[str, str]) -> Any:
        self.sent.append(topic)
        return Acked()

    def flush(self, timeout: float | None = None) -> None:
        return None


def client_for(tmp_path: Path, who: Principal | None = None) -> Iterator[TestClient]:
    settings = ReviewSettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'review.db'}",
                              kafka_bootstrap="127.0.0.1:1", consumer_enabled=False, default_org=ORG)  # fmt: skip
    app = build(settings)
    if who is not None:
        app.dependency_overrides[current_principal] = lambda: who
    with TestClient(app) as c:
        yield c


def runtime_of(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


class Bus:
    """Delivers envelopes to the review service's handlers through the real dispatcher (dedupe included)."""

    def __init__(self, runtime: Runtime) -> None:
        self.publisher = Publisher()
        self.dispatcher = EventDispatcher(runtime.db, consumers.handlers(runtime), self.publisher, "review",
                                          retries=1, backoff_s=0)  # fmt: skip
        self.offset = 0

    def envelope(self, event: Event) -> Envelope:
        # Produced as the topic's owner, as the real services do: consumers refuse other producers.
        return wrap(event, producer=owner(event.topic), correlation_id="corr", org_id=ORG)

    def deliver(self, envelope: Envelope) -> str:
        self.offset += 1
        value = envelope.to_bytes()
        record = ConsumerRecord(
            EVENT_TYPES[envelope.type].topic,
            0,
            None,
            self.offset,
            0,
            0,
            b"k",
            value,
            [(PRODUCER_HEADER, envelope.producer.encode())],
            None,
            1,
            len(value),
            0,
        )
        return self.dispatcher.apply(record)

    def send(self, event: Event) -> str:
        return self.deliver(self.envelope(event))


def opened(campaign_id: str = "cmp-1", **over: Any) -> CampaignOpened:
    fields: dict[str, Any] = {
        "campaign_id": campaign_id, "name": "Summer sun care", "brand": "SolBright", "objective": "awareness",
        "category": "beauty", "tier": "volume", "markets": ["US"], "platforms": ["instagram"],
        "budget_usd": 10_000, "brand_values": ["honest claims", "sun safety"], "owner": "maria@brand",
        "opened_at": datetime.now(UTC),
    }  # fmt: skip
    return CampaignOpened.model_validate({**fields, **over})


def plan(campaign_id: str, creators: list[str], *, version: int = 1, approved: bool = False,
         p50: float = 10_000, who: str = "system") -> CampaignPlanUpdated:  # fmt: skip
    lines = [
        PlanLine(line_id=f"l-{i}", creator_id=c, creator_name=c.title(), platform="instagram", format="reel",
                 market="US", variant_id="A" if i % 2 == 0 else "B", scheduled_on=date.today() + timedelta(days=i),
                 cost_usd=1_000, forecast=[MetricForecast(metric=m, p10=p50 * k * 0.5, p50=p50 * k,
                                                          p90=p50 * k * 1.6, definition="d")
                                           for m, k in (("reach", 1.0), ("engagements", 0.05))],
                 reason="fits")
        for i, c in enumerate(creators)
    ]  # fmt: skip
    return CampaignPlanUpdated(campaign_id=campaign_id, version=version, lines=lines,
                               total_cost_usd=1_000 * len(lines), changed_by=who,
                               change="proposed" if version == 1 else "edited", approved=approved,
                               updated_at=datetime.now(UTC))  # fmt: skip


def result(campaign_id: str, creator_id: str, line: int, reach: float, *, spend: float = 1_000,
           days_ago: int = 0, market: str = "US") -> CampaignResultReported:  # fmt: skip
    return CampaignResultReported(
        result_id=f"r-{campaign_id}-{line}-{reach}", campaign_id=campaign_id, creator_id=creator_id,
        platform="instagram", format="reel", market=market, reach=reach, engagements=reach * 0.05,
        clicks=reach * 0.002, conversions=reach * 0.0001, spend_usd=spend,
        posted_at=datetime.now(UTC) - timedelta(days=days_ago), line_id=f"l-{line}",
        variant="A" if line % 2 == 0 else "B",
    )  # fmt: skip
