"""Brief x creator features for the ranking model, the same in training and in serving."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from services.discovery.schemas import BriefIn, CreatorIn
from shared.events import AccountStats
from shared.norms import engagement_norm

FEATURES: list[str] = [
    "target_share",
    "log_target_er_vs_norm",
    "target_markets_above_norm",
    "log10_followers",
    "platform_match",
    "category_match",
    "language_match",
    "fraud_risk",
    "log_price_vs_budget",
]


@dataclass(frozen=True)
class Fit:
    """How one creator fits one brief, in the terms reasons are written in."""

    account: AccountStats
    target_share: float
    target_er: float
    norm: float
    markets_above_norm: list[str]
    platform_match: bool
    category_match: bool
    language_match: bool
    price_per_slot: float | None
    # Target markets a source names as the top audience country without measuring the share.
    unknown_share_markets: list[str]

    @property
    def share_unknown(self) -> bool:
        """The only evidence of a target audience is a top country of unmeasured share."""
        return self.target_share == 0 and bool(self.unknown_share_markets)


def best_account(brief: BriefIn, creator: CreatorIn) -> AccountStats:
    """The creator's largest account on a platform the brief asks for (else the largest overall)."""
    wanted = [a for a in creator.accounts if a.platform in brief.platforms]
    return max(wanted or creator.accounts, key=lambda a: a.followers)


def fit(brief: BriefIn, creator: CreatorIn, shortlist_size: int) -> Fit:
    account = best_account(brief, creator)
    norm = engagement_norm(account.platform, account.followers)
    in_target = [m for m in creator.audience if m.market in brief.target_markets]
    share = sum(m.audience_share for m in in_target)
    target_er = sum(m.engagement_rate * m.audience_share for m in in_target) / share if share > 0 else 0.0
    top = creator.top_audience_market
    unknown = [top] if top in brief.target_markets and all(m.market != top for m in in_target) else []
    if share == 0 and unknown:  # the whole account's engagement is the best figure there is
        target_er = account.engagement_rate
    slot_budget = brief.budget_usd / shortlist_size if brief.budget_usd else None
    return Fit(
        account=account,
        target_share=share,
        target_er=target_er,
        norm=norm,
        markets_above_norm=[m.market for m in in_target if m.engagement_rate >= norm]
        + (unknown if share == 0 and target_er >= norm else []),
        platform_match=account.platform in brief.platforms,
        category_match=brief.category in creator.categories,
        language_match=not brief.languages or bool(set(brief.languages) & set(creator.languages)),
        price_per_slot=(creator.price_usd / slot_budget)
        if (slot_budget and creator.price_usd is not None)
        else None,
        unknown_share_markets=unknown,
    )


def feature_row(brief: BriefIn, f: Fit, fraud_risk: float | None) -> list[float]:
    nan = float("nan")
    # An unmeasured share is missing to the model, not zero: the source says it is the largest one.
    return [
        nan if f.share_unknown else f.target_share,
        math.log(max(f.target_er, 1e-5) / f.norm) if f.target_share > 0 or f.share_unknown else nan,
        len(f.markets_above_norm) / len(brief.target_markets),
        math.log10(max(f.account.followers, 1)),
        float(f.platform_match),
        float(f.category_match),
        float(f.language_match),
        nan if fraud_risk is None else fraud_risk,
        math.log(max(f.price_per_slot, 1e-6)) if f.price_per_slot is not None else nan,
    ]


def feature_matrix(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32).reshape(-1, len(FEATURES))
