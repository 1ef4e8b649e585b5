"""The campaign record: built from every service's events, and its stage, which only moves forward.

Events of one campaign travel on several topics (discovery's shortlists, the lifecycle topic, results),
so they may arrive in any order: whichever arrives first creates the record, later ones fill it in, and an
event that would move the stage back is recorded on the timeline without moving it. Every move is staged
as CampaignStageChanged through the outbox (partners get it as the `campaign.stage_changed` webhook).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from services.review.models import (
    Campaign,
    CampaignAlert,
    CampaignEntry,
    CampaignLine,
    ReviewTask,
)
from shared.bus.outbox import Outbox
from shared.errors import NotFound
from shared.events import (
    AnomalyDetected,
    CampaignCloseRequested,
    CampaignOpened,
    CampaignPlanUpdated,
    CampaignResultReported,
    CampaignRetrospectiveReady,
    CampaignStageChanged,
    PostBelowForecast,
    ShortlistPublished,
)
from shared.vocabulary import CAMPAIGN_STAGES

SYSTEM = "system"
# The metric a campaign is judged on, by objective.
MAIN_METRIC = {"awareness": "reach", "engagement": "engagements", "conversions": "conversions"}


def now() -> datetime:
    return datetime.now(UTC)


def record(session: Session, org_id: str, campaign_id: str) -> Campaign:
    """The campaign's record, created (at stage brief) by whichever of its events arrives first."""
    row = session.get(Campaign, (org_id, campaign_id))
    if row is None:
        at = now()
        row = Campaign(org_id=org_id, campaign_id=campaign_id, stage_changed_at=at, created_at=at)
        session.add(row)
        session.flush()
    return row


def get(session: Session, org_id: str, campaign_id: str) -> Campaign:
    row = session.get(Campaign, (org_id, campaign_id))
    if row is None:
        raise NotFound(f"no campaign {campaign_id!r}", field="campaign_id")
    return row


def note(session: Session, c: Campaign, entry_id: str, kind: str, text: str, who: str = SYSTEM,
         at: datetime | None = None) -> None:  # fmt: skip
    """Add a timeline line once (entry ids derive from the source event, so redelivery adds nothing)."""
    if session.get(CampaignEntry, entry_id) is None:
        session.add(CampaignEntry(entry_id=entry_id[:80], org_id=c.org_id, campaign_id=c.campaign_id,
                                  at=at or now(), kind=kind, text=text[:2000], who=who[:100]))  # fmt: skip


def advance(session: Session, c: Campaign, stage: str, reason: str, who: str, outbox: Outbox) -> bool:
    """Move the campaign forward to `stage`; a stage at or behind the current one changes nothing."""
    if CAMPAIGN_STAGES.index(stage) <= CAMPAIGN_STAGES.index(c.stage):
        return False
    previous, at = c.stage, now()
    c.stage, c.stage_changed_at = stage, at
    session.add(c)
    event = CampaignStageChanged(campaign_id=c.campaign_id, stage=stage, previous_stage=previous,
                                 reason=reason, changed_by=who, changed_at=at)  # fmt: skip
    outbox.stage(session, event, org_id=c.org_id)
    note(session, c, f"stage:{c.campaign_id}:{stage}", "stage", f"{previous} -> {stage}: {reason}", who, at)
    return True


def on_opened(session: Session, org_id: str, e: CampaignOpened, outbox: Outbox) -> None:
    c = record(session, org_id, e.campaign_id)
    first = c.opened_at is None
    c.name, c.brand, c.objective, c.category, c.tier = e.name, e.brand, e.objective, e.category, e.tier
    c.markets, c.platforms, c.budget_usd = e.markets, list(e.platforms), e.budget_usd
    c.starts_on, c.ends_on, c.keywords, c.brand_values = e.starts_on, e.ends_on, e.keywords, e.brand_values
    c.owner, c.opened_at = e.owner, e.opened_at
    session.add(c)
    note(session, c, f"opened:{c.campaign_id}", "brief", f"brief '{e.name}' for {e.brand or 'no brand'}",
         e.owner, e.opened_at)  # fmt: skip
    if first and c.stage == "brief":
        # The first stage has no move to announce otherwise: partners learn of the campaign here.
        event = CampaignStageChanged(campaign_id=c.campaign_id, stage="brief", reason="brief accepted",
                                     changed_by=e.owner, changed_at=e.opened_at)  # fmt: skip
        outbox.stage(session, event, org_id=org_id)


def on_shortlist(session: Session, org_id: str, sl: ShortlistPublished, outbox: Outbox) -> Campaign:
    c = record(session, org_id, sl.campaign_id)
    if not c.name:  # the shortlist came before CampaignOpened: what it says is better than nothing
        c.name, c.tier, c.markets, c.brand = sl.brief_name, sl.tier, sl.target_markets, sl.brand
        session.add(c)
    advance(session, c, "shortlist", f"{len(sl.entries)} creators shortlisted", SYSTEM, outbox)
    return c


def on_tasks_created(session: Session, c: Campaign, tasks: list[ReviewTask], outbox: Outbox) -> None:
    people = sum(t.route != "auto" for t in tasks)
    advance(session, c, "review", f"{len(tasks)} review tasks, {people} for people", SYSTEM, outbox)
    on_decided(session, c, outbox)


def on_decided(session: Session, c: Campaign, outbox: Outbox) -> None:
    """Planning starts once every finalist is decided (audits of auto-decisions do not hold it up)."""
    stmt = select(ReviewTask.status).where(
        ReviewTask.org_id == c.org_id, ReviewTask.campaign_id == c.campaign_id, ReviewTask.route != "audit"
    )
    statuses = list(session.exec(stmt))
    if statuses and all(s == "decided" for s in statuses):
        advance(session, c, "planning", f"all {len(statuses)} finalists decided", SYSTEM, outbox)


def task_decided(session: Session, org_id: str, campaign_id: str, outbox: Outbox) -> None:
    c = session.get(Campaign, (org_id, campaign_id))
    if c is not None:  # tasks only exist for a shortlisted campaign, whose record the shortlist created
        on_decided(session, c, outbox)


def on_plan(session: Session, org_id: str, e: CampaignPlanUpdated, outbox: Outbox) -> None:
    c = record(session, org_id, e.campaign_id)
    # An older version arriving late does not replace a newer one, nor a copy of the same version its
    # approval (approving is the only change a version gets after it is proposed).
    if e.version > c.plan_version or (e.version == c.plan_version and e.approved and not c.plan_approved):
        _store_plan(session, c, e)
    verb = "approved" if e.approved else e.change
    note(session, c, f"plan:{c.campaign_id}:{e.version}:{int(e.approved)}", "plan",
         f"plan v{e.version}: {verb}" + (f" ({e.why})" if e.why else ""), e.changed_by, e.updated_at)  # fmt: skip
    advance(session, c, "planning", f"plan v{e.version} proposed", SYSTEM, outbox)
    if e.approved:
        advance(session, c, "live", f"plan v{e.version} approved by {e.changed_by}", e.changed_by, outbox)


def _store_plan(session: Session, c: Campaign, e: CampaignPlanUpdated) -> None:
    metric = MAIN_METRIC.get(c.objective, "reach")
    for old in session.exec(select(CampaignLine).where(CampaignLine.org_id == c.org_id,
                                                       CampaignLine.campaign_id == c.campaign_id)):  # fmt: skip
        session.delete(old)
    session.flush()
    for line in e.lines:
        main = next((f for f in line.forecast if f.metric == metric), None)
        session.add(CampaignLine(
            org_id=c.org_id, campaign_id=c.campaign_id, line_id=line.line_id, creator_id=line.creator_id,
            creator_name=line.creator_name, platform=line.platform, format=line.format, market=line.market,
            variant_id=line.variant_id, scheduled_on=line.scheduled_on, cost_usd=line.cost_usd,
            locked=line.locked, p10=main.p10 if main else 0, p50=main.p50 if main else 0,
            p90=main.p90 if main else 0, forecast=[f.model_dump() for f in line.forecast],
        ))  # fmt: skip
    c.plan_version, c.plan_approved, c.plan_cost_usd = e.version, e.approved, e.total_cost_usd
    c.plan = e.model_dump(mode="json", exclude={"lines"})
    if e.budget_usd is not None and c.budget_usd is None:
        c.budget_usd = e.budget_usd
    session.add(c)


def on_result(session: Session, org_id: str, e: CampaignResultReported, outbox: Outbox) -> None:
    c = record(session, org_id, e.campaign_id)
    advance(session, c, "live", f"first result arrived ({e.creator_id} on {e.platform})", SYSTEM, outbox)


def on_below_forecast(session: Session, org_id: str, e: PostBelowForecast) -> None:
    c = record(session, org_id, e.campaign_id)
    alert_id = f"below:{e.campaign_id}:{e.line_id}:{e.metric}"
    if session.get(CampaignAlert, alert_id) is not None:
        return
    line = session.get(CampaignLine, (org_id, e.campaign_id, e.line_id))
    who = line.creator_name if line is not None and line.creator_name else e.creator_id
    text = f"{who}, line {e.line_id}: {e.metric} {e.actual:,.0f} below p10 {e.p10:,.0f} (p50 {e.p50:,.0f})"
    session.add(CampaignAlert(alert_id=alert_id, org_id=org_id, campaign_id=c.campaign_id, kind="below_forecast",
                              creator_id=e.creator_id, line_id=e.line_id, text=text,
                              severity=1 - e.actual / e.p10 if e.p10 else 1.0, detected_at=e.detected_at))  # fmt: skip
    note(session, c, f"alert:{alert_id}", "alert", text, SYSTEM, e.detected_at)


def on_anomaly(session: Session, org_id: str, e: AnomalyDetected) -> int:
    """An anomaly on a creator is an alert on every campaign of theirs that has not closed."""
    same_campaign = (col(ReviewTask.org_id) == col(Campaign.org_id)) & (
        col(ReviewTask.campaign_id) == col(Campaign.campaign_id)
    )
    # The ids first: PostgreSQL cannot DISTINCT rows that have JSON columns.
    stmt = (
        select(Campaign.campaign_id)
        .join(ReviewTask, same_campaign)
        .where(Campaign.org_id == org_id, ReviewTask.creator_id == e.creator_id, Campaign.stage != "closed")
        .distinct()
    )
    open_campaigns = [get(session, org_id, cid) for cid in session.exec(stmt)]
    reasons = "; ".join(r.text for r in e.reasons[:2])
    text = f"{e.creator_id}: {e.kind} anomaly (severity {e.severity:.2f})" + (
        f": {reasons}" if reasons else ""
    )
    count = 0
    for c in open_campaigns:
        alert_id = f"anomaly:{e.anomaly_id}:{c.campaign_id}"
        if session.get(CampaignAlert, alert_id) is None:
            session.add(CampaignAlert(alert_id=alert_id, org_id=org_id, campaign_id=c.campaign_id, kind="anomaly",
                                      creator_id=e.creator_id, text=text[:1000], severity=e.severity,
                                      detected_at=e.detected_at))  # fmt: skip
            note(session, c, f"alert:{alert_id}", "alert", text, SYSTEM, e.detected_at)
            count += 1
    return count


def on_close_requested(session: Session, org_id: str, e: CampaignCloseRequested, outbox: Outbox) -> None:
    c = record(session, org_id, e.campaign_id)
    _closed(session, c, e, outbox)


def _closed(session: Session, c: Campaign, e: CampaignCloseRequested, outbox: Outbox) -> bool:
    if not advance(session, c, "closed", e.reason or f"closed by {e.closed_by}", e.closed_by, outbox):
        return False
    c.closed_by, c.closed_at = e.closed_by, e.closed_at
    session.add(c)
    return True


def close(session: Session, org_id: str, campaign_id: str, who: str, reason: str, outbox: Outbox) -> bool:
    """Close the campaign and ask forecast for its retrospective; closing it again changes nothing."""
    c = get(session, org_id, campaign_id)
    e = CampaignCloseRequested(campaign_id=campaign_id, closed_by=who, reason=reason, closed_at=now())
    if not _closed(session, c, e, outbox):
        return False
    outbox.stage(session, e, org_id=org_id)
    return True


def on_retrospective(session: Session, org_id: str, e: CampaignRetrospectiveReady) -> None:
    c = record(session, org_id, e.campaign_id)
    if c.retrospective.get("computed_at", "") <= e.computed_at.isoformat():
        c.retrospective = e.model_dump(mode="json")
        session.add(c)
    miss = e.actual_total - e.forecast_total
    top = e.contributions[0] if e.contributions else None
    text = (
        f"retrospective: {e.metric} {e.actual_total:,.0f} vs forecast {e.forecast_total:,.0f} ({miss:+,.0f})"
    )
    if top:
        text += f"; largest contributor {top.dimension} {top.value} ({top.share_of_miss:+.0%} of the miss)"
    note(session, c, f"retro:{c.campaign_id}:{e.computed_at.isoformat()}", "retrospective", text, SYSTEM,
         e.computed_at)  # fmt: skip
