"""Brief -> ranked, market-diverse shortlist: filter in SQL, rank with the ONNX model, explain each pick."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from services.discovery import catalog
from services.discovery.features import Fit, feature_matrix, feature_row, fit
from services.discovery.models import (
    Campaign,
    Collaboration,
    Creator,
    CreatorAccount,
    CreatorMarket,
    Shortlist,
)
from services.discovery.schemas import BriefIn, CreatorIn
from shared.bus.outbox import Outbox
from shared.events import CreatorSnapshot, Reason, ShortlistEntry, ShortlistPublished
from shared.onnx_model import OnnxModel
from shared.vocabulary import follower_tier


@dataclass(frozen=True)
class Scored:
    row: Creator
    creator: CreatorIn
    fit: Fit
    score: float


def candidate_ids(session: Session, org_id: str, brief: BriefIn, limit: int) -> list[str]:
    """Creators on a wanted platform with enough audience in the target markets, best-covered first."""
    share = func.sum(CreatorMarket.audience_share).label("share")
    stmt = (
        select(CreatorMarket.creator_id, share)
        .join(
            Creator,
            and_(
                col(Creator.org_id) == col(CreatorMarket.org_id),
                col(Creator.creator_id) == col(CreatorMarket.creator_id),
            ),
        )
        .where(CreatorMarket.org_id == org_id, col(CreatorMarket.market).in_(brief.target_markets))
        .where((col(Creator.fraud_risk).is_(None)) | (col(Creator.fraud_risk) <= brief.max_fraud_risk))
        .where(
            select(CreatorAccount.creator_id)
            .where(
                CreatorAccount.org_id == org_id,
                CreatorAccount.creator_id == CreatorMarket.creator_id,
                col(CreatorAccount.platform).in_(brief.platforms),
            )
            .exists()
        )
        .group_by(col(CreatorMarket.creator_id))
        .having(share >= brief.min_target_share)
        .order_by(share.desc(), col(CreatorMarket.creator_id))
        .limit(limit)
    )
    if brief.min_followers is not None:
        stmt = stmt.where(Creator.followers >= brief.min_followers)
    if brief.max_followers is not None:
        stmt = stmt.where(Creator.followers <= brief.max_followers)
    if brief.exclude_creator_ids:
        stmt = stmt.where(col(CreatorMarket.creator_id).not_in(brief.exclude_creator_ids))
    return [cid for cid, _ in session.exec(stmt)]


def rank(
    brief: BriefIn, loaded: list[tuple[Creator, CreatorIn]], model: OnnxModel, size: int
) -> list[Scored]:
    fits = [fit(brief, creator, size) for _, creator in loaded]
    rows = [feature_row(brief, f, row.fraud_risk) for (row, _), f in zip(loaded, fits, strict=True)]
    scores: list[float] = model.run("model", feature_matrix(rows)).tolist() if rows else []
    scored = [Scored(row, c, f, float(s)) for (row, c), f, s in zip(loaded, fits, scores, strict=True)]
    return sorted(scored, key=lambda s: (-s.score, s.row.creator_id))


def diversify(ranked: list[Scored], size: int, max_share: float) -> list[Scored]:
    """Take the best, but let no home market fill more than `max_share` of the list while others wait."""
    cap = max(1, int(size * max_share))
    picked: list[Scored] = []
    held: list[Scored] = []
    per_market: Counter[str] = Counter()
    for s in ranked:
        if len(picked) == size:
            break
        if per_market[s.row.home_market] >= cap:
            held.append(s)
            continue
        per_market[s.row.home_market] += 1
        picked.append(s)
    return picked + held[: size - len(picked)]


def reasons(brief: BriefIn, s: Scored, past: list[Collaboration]) -> list[Reason]:
    f, row = s.fit, s.row
    tier = follower_tier(f.account.followers)
    markets = "/".join(brief.target_markets)
    out = [
        Reason(
            code="audience_in_target",
            text=f"{f.target_share:.0%} of the audience is in {markets}",
            value=round(f.target_share, 4),
            reference=brief.min_target_share,
            direction=1,
        ),
    ]
    if f.target_share > 0:
        above = f.target_er >= f.norm
        text = (
            f"{f.target_er:.1%} engagement among {markets} followers vs {f.norm:.1%} median for "
            f"{tier} {f.account.platform} creators"
        )
        out.append(
            Reason(
                code="engagement_vs_tier",
                text=text,
                value=round(f.target_er, 5),
                reference=round(f.norm, 5),
                direction=1 if above else -1,
            )
        )
    if len(brief.target_markets) > 1:
        text = f"engagement above the tier median in {len(f.markets_above_norm)} of {len(brief.target_markets)} target markets"
        out.append(
            Reason(
                code="multi_market",
                text=text,
                value=len(f.markets_above_norm),
                reference=len(brief.target_markets),
                direction=1 if f.markets_above_norm else -1,
            )
        )
    if row.fraud_risk is None:
        out.append(Reason(code="fraud_unscored", text="not yet scored for fraud", direction=-1))
    else:
        quality = round(100 * (1 - row.fraud_risk))
        text = f"{row.fraud_level} fraud risk ({row.fraud_risk:.2f}; audience quality {quality})"
        out.append(
            Reason(
                code="fraud_risk",
                text=text,
                value=row.fraud_risk,
                reference=brief.max_fraud_risk,
                direction=1 if row.fraud_level == "low" else -1,
            )
        )
    if f.category_match:
        out.append(Reason(code="category", text=f"creates {brief.category} content", direction=1))
    if f.price_per_slot is not None:
        text = (
            f"estimated price ${s.creator.price_usd:,.0f} is {f.price_per_slot:.0%} of the per-creator budget"
        )
        out.append(
            Reason(
                code="price_vs_budget",
                text=text,
                value=round(f.price_per_slot, 3),
                reference=1.0,
                direction=1 if f.price_per_slot <= 1 else -1,
            )
        )
    if past:
        approved = sum(c.decision == "approve" for c in past)
        text = f"reviewed for {len(past)} of our campaigns before, approved in {approved}"
        out.append(
            Reason(
                code="history", text=text, value=approved, reference=len(past), direction=1 if approved else 0
            )
        )
    return out


def snapshot(s: Scored) -> CreatorSnapshot:
    a = s.fit.account
    return CreatorSnapshot(
        creator_id=s.row.creator_id,
        name=s.row.name,
        home_market=s.row.home_market,
        platform=a.platform,
        followers=a.followers,
        engagement_rate=a.engagement_rate,
        engagement_basis=a.engagement_basis,
        categories=s.row.categories,
        audience=list(s.creator.audience[:5]),
    )


@dataclass(frozen=True)
class ShortlistResult:
    campaign: Campaign
    event: ShortlistPublished
    candidates_considered: int


def build_shortlist(
    session: Session,
    org_id: str,
    brief: BriefIn,
    model: OnnxModel,
    outbox: Outbox,
    *,
    size: int,
    pool: int,
    max_market_share: float,
) -> ShortlistResult:
    """Create the campaign, rank its candidates, store the shortlist and stage its event."""
    now = datetime.now(UTC)
    campaign = Campaign(
        campaign_id=f"cmp-{uuid.uuid4().hex[:12]}",
        org_id=org_id,
        name=brief.name,
        tier=brief.tier,
        brief=brief.model_dump(mode="json"),
        created_at=now,
    )
    session.add(campaign)
    ids = candidate_ids(session, org_id, brief, pool)
    loaded = catalog.load_creators(session, org_id, ids)
    picked = diversify(rank(brief, loaded, model, size), size, max_market_share)
    past = catalog.history(session, org_id, [s.row.creator_id for s in picked])
    entries = [
        ShortlistEntry(
            rank=i,
            creator=snapshot(s),
            match_score=round(s.score, 4),
            fraud_risk=s.row.fraud_risk,
            fraud_level=s.row.fraud_level,
            reasons=reasons(brief, s, past[s.row.creator_id]),
            data_as_of=s.row.updated_at,
        )
        for i, s in enumerate(picked, start=1)
    ]
    event = ShortlistPublished(
        shortlist_id=f"sl-{uuid.uuid4().hex[:12]}",
        campaign_id=campaign.campaign_id,
        brief_name=brief.name,
        tier=brief.tier,
        target_markets=brief.target_markets,
        model_name=model.name,
        model_version=model.version,
        entries=entries,
        created_at=now,
    )
    session.add(
        Shortlist(
            shortlist_id=event.shortlist_id,
            campaign_id=campaign.campaign_id,
            org_id=org_id,
            model_name=model.name,
            model_version=model.version,
            candidates_considered=len(ids),
            entries=[e.model_dump(mode="json") for e in entries],
            created_at=now,
        )
    )
    outbox.stage(session, event, org_id=org_id)
    return ShortlistResult(campaign=campaign, event=event, candidates_considered=len(ids))
