"""Claims on outbound deliveries: one attempt in flight per delivery.

A sender claims one delivery at a time, right before sending it: `claimed_until` (the lease) and a
fresh `claim_token`. The lease is longer than a send can take, so no other sender re-claims a delivery
whose attempt is still under way (a claimed batch sent one by one would outlive its lease at the tail:
the duplicates a slow partner saw). Before sending and when recording, the sender checks that the
token is still its own; recording ends the claim.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from shared.db import Database
from shared.webhooks.models import WebhookDelivery

# Candidates read per claim: a sender that loses one race tries the next without another round trip.
CANDIDATES = 8


@dataclass(frozen=True)
class Claim:
    delivery_id: str
    token: str


def _due(now: datetime) -> tuple[Any, ...]:
    unclaimed = col(WebhookDelivery.claimed_until).is_(None) | (col(WebhookDelivery.claimed_until) <= now)
    return col(WebhookDelivery.status) == "pending", col(WebhookDelivery.next_attempt_at) <= now, unclaimed


def claim_next(edge: Database, lease: timedelta) -> Claim | None:
    """Claim the most overdue pending delivery for `lease`, or None when nothing is due.

    The update repeats the "due" condition, so of two senders that read the same row only one claims
    it (PostgreSQL re-checks the condition after the row lock; SQLite writes one at a time); on
    PostgreSQL, rows another sender is claiming are skipped rather than waited for.
    """
    now = datetime.now(UTC)
    with edge.transaction() as s:
        candidates = s.exec(select(WebhookDelivery.delivery_id).where(*_due(now))
                            .order_by(col(WebhookDelivery.next_attempt_at)).limit(CANDIDATES)
                            .with_for_update(skip_locked=True)).all()  # fmt: skip
        for delivery_id in candidates:
            token = secrets.token_hex(8)
            claimed = s.execute(update(WebhookDelivery)
                                .where(col(WebhookDelivery.delivery_id) == delivery_id, *_due(now))
                                .values(claimed_until=now + lease, claim_token=token))  # fmt: skip
            if cast(CursorResult[Any], claimed).rowcount:
                return Claim(delivery_id, token)
    return None


def held(session: Session, claim: Claim) -> WebhookDelivery | None:
    """The delivery if this claim still holds it (pending, not re-claimed after a lapsed lease)."""
    delivery = session.get(WebhookDelivery, claim.delivery_id)
    if delivery is None or delivery.status != "pending" or delivery.claim_token != claim.token:
        return None
    return delivery


def in_flight(delivery: WebhookDelivery, now: datetime) -> bool:
    until = delivery.claimed_until
    return until is not None and (until if until.tzinfo else until.replace(tzinfo=UTC)) > now
