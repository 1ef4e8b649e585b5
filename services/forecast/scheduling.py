"""Sequencing content across creators and platforms: a constrained greedy schedule, explained, vs a naive plan.

Value of a post = the model's p50 of the objective for that creator, platform, format, market and weekday,
times fatigue: a creator's second post on one day is worth 0.6 (same-day posts cannibalise each other; on
the UCI brand page a second same-day post reached ~0.64x, see page_posts), and each repeat on the same
platform within the campaign 0.85x (audience saturation; an assumption, stated in the explanation).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from services.forecast.features import PlannedContent, feature_matrix
from services.forecast.planning import about
from services.forecast.schemas import PlanContent, PlanIn
from shared.errors import Invalid
from shared.onnx_model import OnnxModel
from shared.vocabulary import SHORT_VIDEO_PLATFORMS

SAME_DAY = 0.6
PLATFORM_REPEAT = 0.85


@dataclass(frozen=True)
class Slot:
    creator_id: str
    content_id: str
    platform: str
    day: date


def validate(req: PlanIn) -> None:
    """Refuse what no schedule can satisfy, naming the constraint (422 with the field)."""
    if req.window_end < req.window_start:
        raise Invalid("window_end is before window_start", field="window_end")
    ids = {c.content_id for c in req.content}
    if len(ids) != len(req.content):
        raise Invalid("content ids must be unique", field="content")
    for c in req.content:
        if unknown := set(c.after) - ids:
            raise Invalid(
                f"{c.content_id} must follow unknown content {sorted(unknown)}", field="content.after"
            )
        if c.not_before and c.not_before > req.window_end:
            raise Invalid(
                f"{c.content_id} may not start before {c.not_before}, after the window",
                field="content.not_before",
            )
    chain = longest_chain(req.content)
    days = (req.window_end - req.window_start).days + 1
    if (chain - 1) * req.min_spacing_days + 1 > days:
        raise Invalid(f"an ordered chain of {chain} posts spaced {req.min_spacing_days} days needs more than "
                      f"the {days}-day window", field="min_spacing_days")  # fmt: skip
    weeks = math.ceil(days / 7)
    if chain > weeks * req.max_posts_per_creator_per_week:
        raise Invalid(f"an ordered chain of {chain} posts does not fit {req.max_posts_per_creator_per_week} "
                      f"posts per week over {weeks} weeks", field="max_posts_per_creator_per_week")  # fmt: skip
    cheapest = min(a.cost_per_post_usd for c in req.creators for a in c.accounts)
    if req.budget_usd is not None and req.budget_usd < cheapest:
        raise Invalid(f"budget {req.budget_usd} is below the cheapest post ({cheapest})", field="budget_usd")


def longest_chain(content: list[PlanContent]) -> int:
    """Length of the longest `after` chain; raises on a cycle (teaser after launch after teaser)."""
    after = {c.content_id: c.after for c in content}
    depth: dict[str, int] = {}

    def visit(cid: str, path: frozenset[str]) -> int:
        if cid in path:
            raise Invalid(f"content order has a cycle through {cid}", field="content.after")
        if cid not in depth:
            depth[cid] = 1 + max((visit(p, path | {cid}) for p in after[cid]), default=0)
        return depth[cid]

    return max(visit(c, frozenset()) for c in after)


def forecast_table(model: OnnxModel, req: PlanIn) -> dict[tuple[str, str, str, int], float]:
    """p50 of the objective for every (creator, platform, format, weekday), scored in one batch."""
    formats = sorted({c.format for c in req.content})
    keys, items = [], []
    for cr in req.creators:
        category, on_niche = about(req.category, cr.categories)
        for acc in cr.accounts:
            for fmt in formats:
                for wd in range(7):
                    keys.append((cr.creator_id, acc.platform, fmt, wd))
                    items.append(PlannedContent(
                        followers=acc.followers, engagement_rate=acc.engagement_rate,
                        per_view=acc.platform in SHORT_VIDEO_PLATFORMS, platform=acc.platform, format=fmt,
                        market=cr.market, market_share=cr.market_share, hour=req.post_hour, weekday=wd, paid=False,
                        category=category, on_niche=on_niche,
                    ))  # fmt: skip
    p50 = np.expm1(model.run(f"{req.objective}_p50", feature_matrix(items))).clip(0)
    return dict(zip(keys, (float(v) for v in p50), strict=True))


def plan_total(
    posts: list[Slot], table: dict[tuple[str, str, str, int], float], fmt: dict[str, str]
) -> float:
    """Objective of a whole plan: the sum of post values after same-day and same-platform fatigue."""
    per_day: dict[tuple[str, date], int] = defaultdict(int)
    for s in posts:
        per_day[(s.creator_id, s.day)] += 1
    seen: dict[tuple[str, str], int] = defaultdict(int)
    total = 0.0
    for s in sorted(posts, key=lambda p: p.day):
        base = table[(s.creator_id, s.platform, fmt[s.content_id], s.day.weekday())]
        same_day = SAME_DAY if per_day[(s.creator_id, s.day)] > 1 else 1.0
        total += base * same_day * PLATFORM_REPEAT ** seen[(s.creator_id, s.platform)]
        seen[(s.creator_id, s.platform)] += 1
    return total


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
