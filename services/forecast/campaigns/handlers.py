"""What forecast keeps of the campaign's events: the brief's frame, people's decisions on creators."""

from __future__ import annotations

from sqlmodel import Session

from services.forecast.models import Campaign, CampaignCreator
from shared.events import CampaignOpened, ReviewDecided


def on_opened(session: Session, org_id: str, event: CampaignOpened) -> None:
    """Keep the brief's frame (a re-published brief updates it)."""
    row = session.get(Campaign, (org_id, event.campaign_id)) or Campaign(
        org_id=org_id, campaign_id=event.campaign_id, name=event.name, objective=event.objective,
        category=event.category, opened_at=event.opened_at)  # fmt: skip
    for name in ("name", "brand", "objective", "category", "markets", "platforms", "budget_usd", "starts_on",
                 "ends_on", "keywords", "opened_at"):  # fmt: skip
        setattr(row, name, getattr(event, name))
    session.add(row)


def on_decided(session: Session, org_id: str, event: ReviewDecided) -> None:
    """Remember the decision on a creator's account for the campaign; the latest decision counts."""
    key = (org_id, event.campaign_id, event.creator.creator_id, event.creator.platform)
    row = session.get(CampaignCreator, key)
    if row is not None and row.decided_at > event.decided_at:
        return  # an older decision arriving late does not overwrite a newer one
    row = row or CampaignCreator(org_id=org_id, campaign_id=event.campaign_id, creator_id=event.creator.creator_id,
                                 platform=event.creator.platform, decision=event.decision, decided_by=event.decided_by,
                                 decided_at=event.decided_at)  # fmt: skip
    row.decision, row.decided_by, row.automated = event.decision, event.decided_by, event.automated
    row.snapshot, row.target_markets = event.creator.model_dump(mode="json"), list(event.target_markets)
    row.decided_at = event.decided_at
    session.add(row)
