"""Results in: each result is recorded once by result_id and staged as a campaign.result_reported event.

The event (not this module) scores forecasts and feeds the review service, so a result sent over REST,
by a partner webhook or straight onto the topic takes the same road.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.forecast.campaigns import tracking
from services.forecast.models import CampaignResult
from services.forecast.schemas import ResultIn, ResultsAccepted, ResultsIn
from shared.bus.outbox import Outbox
from shared.events import CampaignResultReported
from shared.runtime import Runtime
from shared.webhooks.inbound import apply_once, receive

EVENT_FIELDS = set(CampaignResultReported.model_fields)


def ingest(
    session: Session, outbox: Outbox, org_id: str, items: list[ResultIn], source: str
) -> ResultsAccepted:
    """Record the new results and stage one event each; repeated result_ids (also within a batch) change nothing."""
    tracking.validate(session, org_id, items)  # impossible figures or unknown posts: 422, nothing stored
    ids = [i.result_id for i in items]
    known = set(session.exec(select(CampaignResult.result_id).where(
        CampaignResult.org_id == org_id, col(CampaignResult.result_id).in_(ids))))  # fmt: skip
    new: list[str] = []
    now = datetime.now(UTC)
    for item in items:
        if item.result_id in known:
            continue
        known.add(item.result_id)
        session.add(CampaignResult(
            result_id=item.result_id, org_id=org_id, campaign_id=item.campaign_id, creator_id=item.creator_id,
            payload=item.model_dump(mode="json"), source=source, received_at=now,
        ))  # fmt: skip
        event = CampaignResultReported.model_validate(item.model_dump(include=EVENT_FIELDS))
        outbox.stage(session, event, org_id=org_id)
        new.append(item.result_id)
    return ResultsAccepted(accepted=len(new), duplicates=len(items) - len(new), result_ids=new)


def receive_webhook(
    runtime: Runtime,
    source_id: str,
    headers: dict[str, str],
    body: bytes,
    document: Any = None,
    verified_as: tuple[str, str] | None = None,
) -> ResultsAccepted:
    """Verify, apply and record the delivery in one transaction (a repeated webhook-id is answered as
    accepted and changes nothing; a refused one is not recorded, so its corrected retry is applied)."""
    assert runtime.idempotency is not None, "inbound webhooks need the edge database"
    inbound = receive(runtime.idempotency.db, source_id, headers, body, ResultsIn, document, verified_as)
    applied = apply_once(runtime.db, inbound, lambda s, org_id, parsed: ingest(
        s, runtime.outbox, org_id, parsed.results, source=f"inbound:{source_id}"))  # fmt: skip
    return applied or ResultsAccepted(accepted=0, duplicates=0, result_ids=[])
