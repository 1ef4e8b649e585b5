"""The creator catalogue: idempotent upserts, fraud scores and relationship history from events."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime

import orjson
from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from services.discovery.models import Campaign, Collaboration, Creator, CreatorAccount, CreatorMarket
from services.discovery.schemas import BulkResult, CatalogStats, CreatorIn
from shared.bus.outbox import Outbox
from shared.events import AccountStats, CreatorUpserted, FraudScored, MarketStats, ReviewDecided


def content_hash(creator: CreatorIn) -> str:
    return hashlib.sha256(
        orjson.dumps(creator.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def upsert_creators(session: Session, org_id: str, creators: list[CreatorIn], outbox: Outbox) -> BulkResult:
    """Insert or replace creators; unchanged ones are skipped, changed ones announced for fraud scoring."""
    ids = [c.creator_id for c in creators]
    stmt = select(Creator).where(Creator.org_id == org_id, col(Creator.creator_id).in_(ids))
    existing = {c.creator_id: c for c in session.exec(stmt)}
    created = updated = unchanged = 0
    now = datetime.now(UTC)
    for item in creators:
        digest = content_hash(item)
        row = existing.get(item.creator_id)
        if row is not None and row.content_hash == digest:
            unchanged += 1
            continue
        if row is None:
            row = Creator(
                org_id=org_id,
                creator_id=item.creator_id,
                name=item.name,
                home_market=item.home_market,
                followers=0,
                content_hash=digest,
                updated_at=now,
            )
            created += 1
        else:
            updated += 1
        _write(session, org_id, row, item, digest, now)
        outbox.stage(session, CreatorUpserted(**item.model_dump(), updated_at=now), org_id=org_id)
        existing[item.creator_id] = row  # a payload repeated in one batch counts once
    return BulkResult(received=len(creators), created=created, updated=updated, unchanged=unchanged)


def _write(session: Session, org_id: str, row: Creator, item: CreatorIn, digest: str, now: datetime) -> None:
    row.name, row.home_market = item.name, item.home_market
    row.languages, row.categories, row.price_usd = item.languages, item.categories, item.price_usd
    row.followers = max(a.followers for a in item.accounts)
    row.content_hash, row.updated_at = digest, now
    session.add(row)
    for table in (CreatorAccount, CreatorMarket):
        session.execute(
            delete(table).where(col(table.org_id) == org_id, col(table.creator_id) == item.creator_id)
        )
    for a in item.accounts:
        session.add(
            CreatorAccount(
                org_id=org_id,
                creator_id=item.creator_id,
                platform=a.platform,
                handle=a.handle,
                followers=a.followers,
                stats=a.model_dump(mode="json"),
            )
        )
    for m in item.audience:
        session.add(
            CreatorMarket(
                org_id=org_id,
                creator_id=item.creator_id,
                market=m.market,
                audience_share=m.audience_share,
                engagement_rate=m.engagement_rate,
            )
        )


def load_creators(session: Session, org_id: str, ids: list[str]) -> list[tuple[Creator, CreatorIn]]:
    """Rows and their CreatorIn view, in the order of `ids`."""
    if not ids:
        return []
    rows = {
        c.creator_id: c
        for c in session.exec(
            select(Creator).where(Creator.org_id == org_id, col(Creator.creator_id).in_(ids))
        )
    }
    accounts: dict[str, list[AccountStats]] = defaultdict(list)
    acc_stmt = select(CreatorAccount).where(
        CreatorAccount.org_id == org_id, col(CreatorAccount.creator_id).in_(ids)
    )
    for a in session.exec(acc_stmt):
        accounts[a.creator_id].append(AccountStats.model_validate(a.stats))
    markets: dict[str, list[MarketStats]] = defaultdict(list)
    mk_stmt = select(CreatorMarket).where(
        CreatorMarket.org_id == org_id, col(CreatorMarket.creator_id).in_(ids)
    )
    for m in session.exec(mk_stmt):
        markets[m.creator_id].append(
            MarketStats(market=m.market, audience_share=m.audience_share, engagement_rate=m.engagement_rate)
        )
    out = []
    for cid in ids:
        row = rows.get(cid)
        if row is None:
            continue
        view = CreatorIn.model_construct(
            creator_id=cid,
            name=row.name,
            home_market=row.home_market,
            languages=row.languages,
            categories=row.categories,
            accounts=accounts[cid],
            audience=sorted(markets[cid], key=lambda m: -m.audience_share),
            price_usd=row.price_usd,
        )
        out.append((row, view))
    return out


def apply_fraud_score(session: Session, org_id: str, event: FraudScored) -> None:
    """Keep the newest score; an older score arriving late never overwrites a newer one."""
    row = session.get(Creator, (org_id, event.creator_id))
    if row is None:
        return
    if row.fraud_scored_at is not None and row.fraud_scored_at.replace(tzinfo=UTC) > event.scored_at:
        return
    row.fraud_risk, row.fraud_level = event.risk, event.level
    row.fraud_reasons = [r.model_dump() for r in event.reasons]
    row.fraud_model = f"{event.model_name}@{event.model_version}"
    row.fraud_scored_at = event.scored_at
    session.add(row)


def record_decision(session: Session, org_id: str, event: ReviewDecided) -> None:
    key = (org_id, event.creator.creator_id, event.campaign_id)
    row = session.get(Collaboration, key) or Collaboration(
        org_id=org_id,
        creator_id=event.creator.creator_id,
        campaign_id=event.campaign_id,
        decision=event.decision,
        automated=event.automated,
        decided_at=event.decided_at,
    )
    row.decision, row.automated, row.decided_at = event.decision, event.automated, event.decided_at
    session.add(row)


def history(session: Session, org_id: str, ids: list[str]) -> dict[str, list[Collaboration]]:
    out: dict[str, list[Collaboration]] = defaultdict(list)
    if ids:
        stmt = select(Collaboration).where(
            Collaboration.org_id == org_id, col(Collaboration.creator_id).in_(ids)
        )
        for c in session.exec(stmt):
            out[c.creator_id].append(c)
    return out


def stats(session: Session, org_id: str) -> CatalogStats:
    def count(stmt: object) -> int:
        return int(session.exec(stmt).one())  # type: ignore[call-overload]

    mine = Creator.org_id == org_id
    return CatalogStats(
        creators=count(select(func.count()).select_from(Creator).where(mine)),
        fraud_scored=count(
            select(func.count()).select_from(Creator).where(mine, col(Creator.fraud_risk).is_not(None))
        ),
        campaigns=count(select(func.count()).select_from(Campaign).where(Campaign.org_id == org_id)),
    )
