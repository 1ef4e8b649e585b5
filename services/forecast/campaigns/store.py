"""Reading and writing a campaign's rows; every plan version is stored and published (outbox) together."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, func, select

from services.forecast.campaigns.planner import METRICS, Line, PlanState
from services.forecast.models import Campaign, CampaignCreator, LineResult, PlanVersion, Retrospective
from shared.bus.outbox import Outbox
from shared.errors import Conflict, NotFound
from shared.events import CampaignPlanUpdated, MessageVariant, MetricForecast, PlanLine

PUBLIC_LINE_FIELDS = set(PlanLine.model_fields)


def campaign(session: Session, org_id: str, campaign_id: str) -> Campaign:
    row = session.get(Campaign, (org_id, campaign_id))
    if row is None:
        raise NotFound(f"no campaign {campaign_id} (forecast learns of campaigns from campaign.opened)",
                       field="campaign_id")  # fmt: skip
    return row


def approved(session: Session, org_id: str, campaign_id: str) -> list[CampaignCreator]:
    stmt = select(CampaignCreator).where(
        CampaignCreator.org_id == org_id,
        CampaignCreator.campaign_id == campaign_id,
        CampaignCreator.decision == "approve",
    )
    return list(session.exec(stmt.order_by(col(CampaignCreator.creator_id), col(CampaignCreator.platform))))


def latest(session: Session, org_id: str, campaign_id: str) -> PlanVersion | None:
    """The newest version (LIMIT 1: a plan with hundreds of versions must not load every state)."""
    stmt = (
        select(PlanVersion)
        .where(PlanVersion.org_id == org_id, PlanVersion.campaign_id == campaign_id)
        .order_by(col(PlanVersion.version).desc())
        .limit(1)
    )
    return session.exec(stmt).first()


def latest_number(session: Session, org_id: str, campaign_id: str) -> int:
    stmt = select(func.max(PlanVersion.version)).where(
        PlanVersion.org_id == org_id, PlanVersion.campaign_id == campaign_id
    )
    return int(session.exec(stmt).one() or 0)


def current(session: Session, org_id: str, campaign_id: str) -> PlanVersion:
    row = latest(session, org_id, campaign_id)
    if row is None:
        raise NotFound(f"campaign {campaign_id} has no plan yet: POST /v1/campaigns/{campaign_id}/plan",
                       field="campaign_id")  # fmt: skip
    return row


def versions(session: Session, org_id: str, campaign_id: str) -> list[PlanVersion]:
    """Every version's record of who changed what, without loading each whole plan."""
    stmt = (
        select(PlanVersion)
        .options(defer(PlanVersion.state))  # type: ignore[arg-type]
        .where(PlanVersion.org_id == org_id, PlanVersion.campaign_id == campaign_id)
        .order_by(col(PlanVersion.version))
    )
    return list(session.exec(stmt))


def results_by_line(session: Session, org_id: str, campaign_id: str) -> dict[str, LineResult]:
    """The latest reading of each posted line (a later reading of the same post supersedes earlier ones)."""
    stmt = (
        select(LineResult)
        .where(LineResult.org_id == org_id, LineResult.campaign_id == campaign_id)
        .order_by(col(LineResult.received_at), col(LineResult.result_id))
    )
    return {r.line_id: r for r in session.exec(stmt)}


def ensure_open(session: Session, org_id: str, campaign_id: str) -> None:
    if session.get(Retrospective, (org_id, campaign_id)) is not None:
        raise Conflict(
            f"campaign {campaign_id} is closed; its plan can no longer change", field="campaign_id"
        )


def totals(lines: list[Line]) -> list[MetricForecast]:
    """Per metric, the sum over the lines (sums of quantiles: a range, not the total's own interval)."""
    out = []
    for metric in METRICS:
        fs = [f for line in lines for f in line["forecast"] if f["metric"] == metric]
        out.append(MetricForecast(metric=metric, p10=round(sum(f["p10"] for f in fs), 2),
                                  p50=round(sum(f["p50"] for f in fs), 2), p90=round(sum(f["p90"] for f in fs), 2),
                                  definition=f"sum over the plan's lines of each line's {metric} forecast"))  # fmt: skip
    return out


def public_line(line: Line) -> PlanLine:
    return PlanLine.model_validate({k: v for k, v in line.items() if k in PUBLIC_LINE_FIELDS})


def event(row: PlanVersion) -> CampaignPlanUpdated:
    state = PlanState.from_json(row.state)
    return CampaignPlanUpdated(
        campaign_id=row.campaign_id, version=row.version, lines=[public_line(x) for x in state.lines],
        variants=[MessageVariant.model_validate(v) for v in state.variants], total_cost_usd=row.total_cost_usd,
        budget_usd=state.settings.budget_usd, totals=totals(state.lines), changed_by=row.changed_by,
        change=row.change, why=row.why, approved=row.approved_by is not None, updated_at=row.approved_at or row.created_at,
    )  # fmt: skip


def save(session: Session, outbox: Outbox, org_id: str, campaign_id: str, state: PlanState, *,
         changed_by: str, change: str, why: str = "", approved_by: str | None = None) -> PlanVersion:  # fmt: skip
    """Store the next version and stage its CampaignPlanUpdated in the same transaction."""
    now = datetime.now(UTC)
    row = PlanVersion(
        org_id=org_id, campaign_id=campaign_id, version=latest_number(session, org_id, campaign_id) + 1,
        state=state.to_json(), total_cost_usd=round(sum(x["cost_usd"] for x in state.lines), 2),
        changed_by=changed_by, change=change[:2000], why=why[:2000], approved_by=approved_by,
        approved_at=now if approved_by else None, created_at=now,
    )  # fmt: skip
    session.add(row)
    try:
        session.flush()  # a concurrent writer of the same version number fails here, before anything is staged
    except IntegrityError as exc:
        raise Conflict(f"campaign {campaign_id}'s plan changed meanwhile (version {row.version} exists); "
                       "reload it and edit again", field="version") from exc  # fmt: skip
    outbox.stage(session, event(row), org_id=org_id)
    return row


def summary(row: PlanVersion) -> dict[str, Any]:
    return {"version": row.version, "changed_by": row.changed_by, "change": row.change, "why": row.why,
            "approved": row.approved_by is not None, "approved_by": row.approved_by,
            "total_cost_usd": row.total_cost_usd, "created_at": row.created_at}  # fmt: skip
