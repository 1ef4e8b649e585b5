"""Lookalikes: creators whose audience and content vectors are closest (cosine) to one or more seeds.

The vector is audience share per market, content categories, platforms, languages, size and engagement
against the tier norm, with weights that make audience geography count most (as Modash weighs location
and audience above topic). Candidates are pre-selected in SQL (sharing the seeds' main audience market
and a category), so the cosine runs over a bounded pool whatever the catalogue size.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
from sqlalchemy import and_
from sqlmodel import Session, col, select

from services.discovery.catalog import mask
from services.discovery.models import Creator, CreatorMarket, Relationship
from services.discovery.schemas import Lookalike, LookalikesOut
from shared.errors import NotFound
from shared.norms import engagement_norm
from shared.vocabulary import CATEGORIES, LANGUAGES, MARKETS, PLATFORMS

POOL = 3000
WEIGHTS = {"market": 1.0, "category": 0.6, "platform": 0.35, "language": 0.35, "size": 0.5, "engagement": 0.4}
FEATURES = [
    *(f"audience_{m}" for m in MARKETS),
    *(f"category_{c}" for c in CATEGORIES),
    *(f"platform_{p}" for p in PLATFORMS),
    *(f"language_{lang}" for lang in LANGUAGES),
    "log10_followers_centred",
    "log_engagement_vs_norm",
]


def _onehot(values: list[str], vocabulary: tuple[str, ...], weight: float) -> list[float]:
    if not values:
        return [0.0] * len(vocabulary)
    scale = weight / math.sqrt(len(values))  # a creator with three categories is not 3x as "category"
    return [scale if v in values else 0.0 for v in vocabulary]


def vector(profile: dict[str, Any]) -> np.ndarray:
    """The lookalike vector of one stored creator payload."""
    shares = {m["market"]: m["audience_share"] for m in profile["audience"]}
    main = max(profile["accounts"], key=lambda a: a["followers"])
    norm = engagement_norm(main["platform"], main["followers"])
    ratio = math.log(max(main["engagement_rate"], 1e-5) / norm)
    return np.array(
        [
            *(WEIGHTS["market"] * shares.get(m, 0.0) for m in MARKETS),
            *_onehot(profile["categories"], CATEGORIES, WEIGHTS["category"]),
            *_onehot([a["platform"] for a in profile["accounts"]], PLATFORMS, WEIGHTS["platform"]),
            *_onehot(profile["languages"], LANGUAGES, WEIGHTS["language"]),
            WEIGHTS["size"] * (math.log10(max(main["followers"], 1)) - 4.5) / 1.5,
            WEIGHTS["engagement"] * max(-2.0, min(2.0, ratio)),
        ],
        dtype=np.float32,
    )


def _pool(session: Session, org_id: str, seeds: list[Creator]) -> list[Creator]:
    """Creators sharing the seeds' main audience market and at least one of their categories."""
    top: Counter[str] = Counter()
    for s in seeds:
        for m in s.profile["audience"]:
            top[m["market"]] += m["audience_share"]
    categories = mask(sorted({c for s in seeds for c in s.categories}), CATEGORIES)
    seed_ids = [s.creator_id for s in seeds]
    stmt = select(Creator).where(col(Creator.org_id) == org_id, col(Creator.creator_id).not_in(seed_ids))
    if categories:
        stmt = stmt.where(col(Creator.category_mask).op("&")(categories) != 0)
    if top:
        market = top.most_common(1)[0][0]
        stmt = stmt.join(
            CreatorMarket,
            and_(
                col(CreatorMarket.org_id) == col(Creator.org_id),
                col(CreatorMarket.creator_id) == col(Creator.creator_id),
                col(CreatorMarket.market) == market,
            ),
        ).order_by(col(CreatorMarket.audience_share).desc(), col(Creator.creator_id))
    return list(session.exec(stmt.limit(POOL)))


def winners(session: Session, org_id: str, campaign_ids: list[str]) -> list[str]:
    """Creators whose campaigns among these met or beat the forecast (review's relationship history)."""
    if not campaign_ids:
        return []
    stmt = select(Relationship.creator_id).where(
        Relationship.org_id == org_id,
        col(Relationship.campaign_id).in_(campaign_ids),
        col(Relationship.outcome_vs_forecast) >= 1.0,
    )
    return sorted(set(session.exec(stmt)))


def similar(session: Session, org_id: str, seed_ids: list[str], limit: int) -> LookalikesOut:
    """The `limit` creators most similar to the mean vector of the seeds."""
    stmt = select(Creator).where(Creator.org_id == org_id, col(Creator.creator_id).in_(seed_ids))
    seeds = list(session.exec(stmt))
    missing = sorted(set(seed_ids) - {s.creator_id for s in seeds})
    if missing:
        raise NotFound(f"no creator {', '.join(missing)}", field="creator_ids")
    pool = _pool(session, org_id, seeds)
    if not pool:
        return LookalikesOut(seeds=seed_ids, features=FEATURES, candidates_considered=0, results=[])
    target = np.mean([vector(s.profile) for s in seeds], axis=0)
    matrix = np.stack([vector(c.profile) for c in pool])
    sims = matrix @ target / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(target) + 1e-9)
    order = np.argsort(-sims, kind="stable")[:limit]
    seed_markets = {m["market"] for s in seeds for m in s.profile["audience"] if m["audience_share"] >= 0.1}
    seed_categories = {c for s in seeds for c in s.categories}
    results = [
        Lookalike(
            creator_id=pool[i].creator_id,
            name=pool[i].name,
            home_market=pool[i].home_market,
            followers=pool[i].followers,
            similarity=round(float(sims[i]), 4),
            shared_markets=sorted(
                seed_markets
                & {m["market"] for m in pool[i].profile["audience"] if m["audience_share"] >= 0.1}
            ),
            shared_categories=sorted(seed_categories & set(pool[i].categories)),
        )
        for i in order
    ]
    return LookalikesOut(seeds=seed_ids, features=FEATURES, candidates_considered=len(pool), results=results)
