"""The creator catalogue: idempotent upserts, fraud scores and relationship history from events."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import String, cast, func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, delete, select, update

from services.discovery import creator_history, textsearch
from services.discovery.models import (
    Campaign,
    Collaboration,
    Creator,
    CreatorMarket,
    Relationship,
)
from services.discovery.schemas import BulkResult, CatalogStats, CreatorIn
from shared.bus.outbox import Outbox
from shared.events import (
    CreatorUpserted,
    FraudScored,
    RelationshipUpdated,
    ReviewDecided,
)
from shared.vocabulary import CATEGORIES, LANGUAGES, PLATFORMS

# Demographics and texts (bio, posts) are discovery's own detail; CreatorUpserted does not carry them.
DISCOVERY_ONLY_FIELDS = frozenset(
    {"audience_female_share", "audience_age", "bio", "recent_posts", "top_audience_market", "measured_on",
     "tags"}
)  # fmt: skip


def is_older(incoming: date | None, stored: date | None) -> bool:
    """True when an incoming measurement must not replace the stored one: it was measured earlier, or
    it is undated while the stored one is dated (an undated file is no evidence of being newer)."""
    return stored is not None and (incoming is None or incoming < stored)


def market_rows(payload: dict[str, Any]) -> list[tuple[str, float, float, bool]]:
    """(market, share, engagement rate, share known) for every audience market of a payload: the measured
    ones, and the top audience country a source names without a share (at share 0, marked unknown,
    with the main account's engagement) unless it is measured too."""
    audience = payload["audience"]
    out = [(m["market"], m["audience_share"], m["engagement_rate"], True) for m in audience]
    top = payload.get("top_audience_market")
    if top and all(m["market"] != top for m in audience):
        main = max(payload["accounts"], key=lambda a: a["followers"])
        out.append((top, 0.0, main["engagement_rate"], False))
    return out


def payload(creator: CreatorIn) -> dict[str, Any]:
    """The creator as plain JSON-ready data. Every field is a JSON type, so python mode (4x faster than
    mode="json") gives the same dict."""
    return creator.model_dump()


def content_hash(creator: CreatorIn) -> str:
    return payload_hash(payload(creator))


def payload_json(payload: dict[str, Any]) -> bytes:
    """The payload as JSON with sorted keys: what the content hash is taken over (bulk.py also stores
    these bytes as `profile`, so one serialisation serves both)."""
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def payload_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(payload_json(payload)).hexdigest()


def mask(values: list[str], vocabulary: tuple[str, ...]) -> int:
    """Bit set of `values` over a closed vocabulary (bit i = vocabulary[i]); unknown values are ignored."""
    index = {v: i for i, v in enumerate(vocabulary)}
    return sum(1 << index[v] for v in set(values) if v in index)


# mask()'s bits, looked up once: search_columns runs for every ingested creator (bulk ingest's hot path).
_PLATFORM_BITS = {v: 1 << i for i, v in enumerate(PLATFORMS)}
_CATEGORY_BITS = {v: 1 << i for i, v in enumerate(CATEGORIES)}
_LANGUAGE_BITS = {v: 1 << i for i, v in enumerate(LANGUAGES)}


def _bits(values: list[str], bits: dict[str, int]) -> int:
    """mask() over a precomputed vocabulary; OR makes a repeated value count once, as mask's set does."""
    out = 0
    for v in values:
        out |= bits.get(v, 0)
    return out


def search_columns(payload: dict[str, Any]) -> dict[str, Any]:
    """The denormalised columns search filters and sorts on, from a validated payload (JSON mode)."""
    accounts, audience = payload["accounts"], payload["audience"]
    main = max(accounts, key=lambda a: a["followers"])
    return {
        "followers": main["followers"],
        "platform_mask": _bits([a["platform"] for a in accounts], _PLATFORM_BITS),
        "category_mask": _bits(payload["categories"], _CATEGORY_BITS),
        "language_mask": _bits(payload["languages"], _LANGUAGE_BITS),
        "engagement_rate": main["engagement_rate"],
        "growth": main.get("median_monthly_growth", 0.0),
        "audience_known": min(1.0, sum(m["audience_share"] for m in audience)),
        "max_market_er": max((m["engagement_rate"] for m in audience), default=0.0),
        "female_share": payload.get("audience_female_share"),
        "age_shares": payload.get("audience_age") or {},
        "measured_on": payload.get("measured_on"),
    }


def upserted_event(payload: dict[str, Any], now: datetime) -> CreatorUpserted:
    fields = {k: v for k, v in payload.items() if k not in DISCOVERY_ONLY_FIELDS}
    return CreatorUpserted.model_validate({**fields, "updated_at": now})


def upsert_creators(session: Session, org_id: str, creators: list[CreatorIn], outbox: Outbox) -> BulkResult:
    """Insert or replace creators; unchanged ones are skipped, changed ones announced for fraud scoring."""
    ids = [c.creator_id for c in creators]
    stmt = select(Creator).where(Creator.org_id == org_id, col(Creator.creator_id).in_(ids))
    existing = {c.creator_id: c for c in session.exec(stmt)}
    created = updated = unchanged = older = 0
    now = datetime.now(UTC)
    points: list[dict[str, Any]] = []
    for item in creators:
        digest = content_hash(item)
        row = existing.get(item.creator_id)
        if row is not None and row.content_hash == digest:
            unchanged += 1
            continue
        if row is not None and is_older(item.measured_on, row.measured_on):
            older += 1
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
        data = payload(item)
        _write(session, org_id, row, item, data, digest, now)
        outbox.stage(session, upserted_event(data, now), org_id=org_id)
        points += creator_history.metric_rows(org_id, data, now)
        existing[item.creator_id] = row  # a payload repeated in one batch counts once
    creator_history.record(session, points)
    return BulkResult(
        received=len(creators), created=created, updated=updated, unchanged=unchanged, older=older
    )


def _write(
    session: Session,
    org_id: str,
    row: Creator,
    item: CreatorIn,
    payload: dict[str, Any],
    digest: str,
    now: datetime,
) -> None:
    row.name, row.home_market = item.name, item.home_market
    row.languages, row.categories, row.price_usd = item.languages, item.categories, item.price_usd
    for name, value in search_columns(payload).items():
        setattr(row, name, value)
    row.profile = payload
    row.content_hash, row.updated_at = digest, now
    session.add(row)
    textsearch.store(session, org_id, item.creator_id, payload)
    # Accounts live in `profile` (and platform_mask for filters); markets also get rows for the indexes.
    session.execute(
        delete(CreatorMarket).where(
            col(CreatorMarket.org_id) == org_id, col(CreatorMarket.creator_id) == item.creator_id
        )
    )
    for market, share, rate, known in market_rows(payload):
        session.add(
            CreatorMarket(
                org_id=org_id,
                creator_id=item.creator_id,
                market=market,
                audience_share=share,
                engagement_rate=rate,
                share_known=known,
                platform_mask=row.platform_mask,
                category_mask=row.category_mask,
                fraud_risk=row.fraud_risk,
                followers=row.followers,
            )
        )


def load_creators(session: Session, org_id: str, ids: list[str]) -> list[tuple[Creator, CreatorIn]]:
    """Rows and their CreatorIn view, in the order of `ids`: one query, the view from the stored payload."""
    if not ids:
        return []
    stmt = select(Creator).where(Creator.org_id == org_id, col(Creator.creator_id).in_(ids))
    rows = {c.creator_id: c for c in session.exec(stmt)}
    return [(rows[cid], creator_view(rows[cid])) for cid in ids if cid in rows]


@dataclass(frozen=True)
class PoolRow:
    """The creator columns ranking and reasons read; far cheaper to build than an ORM row."""

    creator_id: str
    name: str
    home_market: str
    price_usd: float | None
    followers: int
    fraud_risk: float | None
    fraud_level: str
    fraud_scored_at: datetime | None
    updated_at: datetime
    audience_known: float
    fake_share: float | None
    audience_quality: float | None
    audience_checked_at: datetime | None
    anomaly_severity: float | None
    measured_on: date | None
    categories: list[str]


POOL_FIELDS = tuple(f for f in PoolRow.__dataclass_fields__ if f != "categories")


POOL_PG = text(
    f"SELECT {', '.join(POOL_FIELDS)}, CAST(profile AS TEXT) FROM creator "
    "WHERE org_id = :org AND creator_id = ANY(:ids)"
)


def load_pool(session: Session, org_id: str, ids: list[str]) -> list[tuple[PoolRow, CreatorIn]]:
    """Like load_creators for a brief's candidate pool: only the columns ranking needs, and the payload
    parsed straight from its JSON text by pydantic-core (about 3x cheaper than orjson + model_construct,
    which also leaves work for the garbage collector). This keeps a candidate pool cheap."""
    found: dict[str, tuple[PoolRow, CreatorIn]] = {}
    for values in _pool_rows(session, org_id, ids):
        view = CreatorIn.model_validate_json(values[-1])
        view.audience.sort(key=lambda m: -m.audience_share)
        row = PoolRow(*values[:-1], view.categories)  # type: ignore[call-arg]
        found[row.creator_id] = (row, view)
    return [found[cid] for cid in ids if cid in found]


def _pool_rows(session: Session, org_id: str, ids: list[str]) -> list[Any]:
    if session.get_bind().dialect.name == "postgresql":  # one array parameter instead of long IN lists
        return list(session.execute(POOL_PG, {"org": org_id, "ids": ids}))
    columns = [col(getattr(Creator, f)) for f in POOL_FIELDS]
    out: list[Any] = []
    for start in range(0, len(ids), 500):
        stmt = sa_select(*columns, cast(col(Creator.profile), String)).where(
            col(Creator.org_id) == org_id, col(Creator.creator_id).in_(ids[start : start + 500])
        )
        out.extend(session.execute(stmt))
    return out


def creator_view(row: Creator) -> CreatorIn:
    """The ingested payload, audience largest first. Stored payloads were validated on the way in."""
    view = CreatorIn.model_validate(row.profile)
    view.audience.sort(key=lambda m: -m.audience_share)
    return view


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
    session.execute(
        update(CreatorMarket)
        .where(col(CreatorMarket.org_id) == org_id, col(CreatorMarket.creator_id) == event.creator_id)
        .values(fraud_risk=event.risk)
    )


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


def apply_relationship(session: Session, org_id: str, event: RelationshipUpdated) -> None:
    """Record how a collaboration went (newest update wins) and refresh the creator's history columns."""
    key = (org_id, event.creator_id, event.campaign_id)
    row = session.get(Relationship, key)
    if row is not None and row.updated_at.replace(tzinfo=UTC) > event.updated_at:
        return
    row = row or Relationship(
        org_id=org_id,
        creator_id=event.creator_id,
        campaign_id=event.campaign_id,
        status=event.status,
        updated_at=event.updated_at,
    )
    row.status, row.outcome_vs_forecast = event.status, event.outcome_vs_forecast
    row.notes, row.incidents, row.updated_at = event.notes, list(event.incidents), event.updated_at
    session.add(row)
    session.flush()
    refresh_history_columns(session, org_id, event.creator_id)


def refresh_history_columns(session: Session, org_id: str, creator_id: str) -> None:
    """past_campaigns counts campaigns that went ahead; past_outcome is their mean actual/forecast."""
    creator = session.get(Creator, (org_id, creator_id))
    if creator is None:
        return
    rels = relationships(session, org_id, [creator_id]).get(creator_id, [])
    went_ahead = [r for r in rels if r.status in ("active", "completed", "incident")]
    outcomes = [r.outcome_vs_forecast for r in went_ahead if r.outcome_vs_forecast is not None]
    creator.past_campaigns = len(went_ahead)
    creator.past_outcome = sum(outcomes) / len(outcomes) if outcomes else None
    session.add(creator)


def relationships(session: Session, org_id: str, ids: list[str]) -> dict[str, list[Relationship]]:
    out: dict[str, list[Relationship]] = defaultdict(list)
    if ids:
        stmt = select(Relationship).where(
            Relationship.org_id == org_id, col(Relationship.creator_id).in_(ids)
        )
        for r in session.exec(stmt):
            out[r.creator_id].append(r)
    return out


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
