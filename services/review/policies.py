"""Routing settings per brand and per campaign, stored; anything unset falls back to the service config.

Precedence: campaign over brand over config, field by field, so a campaign can change only its audit rate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from services.review.config import ReviewSettings
from services.review.models import RoutingSetting
from services.review.routing import Policy
from services.review.schemas import RoutingValues, SettingOut

FIELDS = tuple(RoutingValues.model_fields)


def defaults(settings: ReviewSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in FIELDS}


def _stored(session: Session, org_id: str, scope: str, scope_id: str) -> RoutingSetting | None:
    stmt = select(RoutingSetting).where(
        RoutingSetting.org_id == org_id, RoutingSetting.scope == scope, RoutingSetting.scope_id == scope_id
    )
    return session.exec(stmt).first()


def put_setting(
    session: Session, org_id: str, scope: str, scope_id: str, values: RoutingValues, who: str
) -> SettingOut:
    """Create or replace the settings of one brand or campaign (only the fields given are stored)."""
    row = _stored(session, org_id, scope, scope_id) or RoutingSetting(
        org_id=org_id, scope=scope, scope_id=scope_id, updated_at=datetime.now(UTC)
    )
    row.values = values.model_dump(exclude_none=True)
    row.updated_by, row.updated_at = who, datetime.now(UTC)
    session.add(row)
    session.flush()
    return SettingOut(scope=scope, scope_id=scope_id, values=RoutingValues(**row.values))


def effective(
    session: Session, settings: ReviewSettings, org_id: str, campaign_id: str, brand: str = ""
) -> dict[str, Any]:
    """The values that apply to one campaign: config, then the brand's, then the campaign's."""
    values = defaults(settings)
    for scope, scope_id in (("brand", brand), ("campaign", campaign_id)):
        row = _stored(session, org_id, scope, scope_id) if scope_id else None
        if row is not None:
            values.update(row.values)
    return values


def policy_of(values: dict[str, Any]) -> Policy:
    return Policy(
        values["auto_approve_min_match"],
        values["auto_approve_max_fraud"],
        values["auto_reject_min_fraud"],
        values["audit_sample_rate"],
        values["first_time_to_people"],
    )
