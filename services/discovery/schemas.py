"""Discovery request and response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.events import AccountStats, CreatorSnapshot, MarketStats, Reason
from shared.vocabulary import CATEGORIES, LANGUAGES, MARKETS, CampaignTier, Platform, RiskLevel


def _known(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(allowed)})")
    return values


def _unique(values: list[str], what: str) -> None:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"each {what} may appear once; repeated: {', '.join(repeated)}")


class CreatorIn(BaseModel):
    """A creator as ingested: accounts per platform and audience per market."""

    model_config = ConfigDict(extra="forbid")

    creator_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    home_market: str
    languages: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    accounts: list[AccountStats] = Field(min_length=1)
    audience: list[MarketStats] = Field(default_factory=list)
    price_usd: float | None = Field(None, ge=0)

    @field_validator("home_market")
    @classmethod
    def _home(cls, v: str) -> str:
        return _known([v], MARKETS, "market")[0]

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: list[str]) -> list[str]:
        return _known(v, LANGUAGES, "language")

    @field_validator("categories")
    @classmethod
    def _categories(cls, v: list[str]) -> list[str]:
        return _known(v, CATEGORIES, "category")

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, v: list[AccountStats]) -> list[AccountStats]:
        _unique([a.platform for a in v], "platform in accounts")
        return v

    @field_validator("audience")
    @classmethod
    def _audience(cls, v: list[MarketStats]) -> list[MarketStats]:
        _known([m.market for m in v], MARKETS, "market")
        _unique([m.market for m in v], "market in audience")
        if sum(m.audience_share for m in v) > 1.01:  # rounding in real exports adds up to a little over 1
            raise ValueError("audience shares add up to more than 1")
        return v


class BulkCreatorsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    creators: list[CreatorIn] = Field(min_length=1, max_length=5000)


class BulkResult(BaseModel):
    received: int
    created: int
    updated: int
    unchanged: int


class BriefIn(BaseModel):
    """A campaign brief: what the brand wants, where, and how much human touch (tier)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    product: str = Field("", max_length=500)
    category: str
    target_markets: list[str] = Field(min_length=1, max_length=10)
    platforms: list[Platform] = Field(min_length=1)
    languages: list[str] = Field(default_factory=list)
    budget_usd: float | None = Field(None, gt=0)
    tier: CampaignTier = "volume"
    brand_values: list[str] = Field(default_factory=list, max_length=20)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    exclude_creator_ids: list[str] = Field(default_factory=list, max_length=1000)
    min_followers: int | None = Field(None, ge=0)
    max_followers: int | None = Field(None, ge=0)
    max_fraud_risk: float = Field(0.8, ge=0, le=1)
    min_target_share: float = Field(
        0.1, ge=0, le=1, description="Least audience share in the target markets."
    )
    shortlist_size: int | None = Field(None, ge=1, le=200)

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        return _known([v], CATEGORIES, "category")[0]

    @field_validator("target_markets")
    @classmethod
    def _markets(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(_known(v, MARKETS, "market")))  # a repeated market counts once

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: list[str]) -> list[str]:
        return _known(v, LANGUAGES, "language")

    @model_validator(mode="after")
    def _range(self) -> BriefIn:
        if (
            self.min_followers is not None
            and self.max_followers is not None
            and self.min_followers > self.max_followers
        ):
            raise ValueError("min_followers is greater than max_followers")
        return self


class ShortlistEntryOut(BaseModel):
    rank: int
    creator: CreatorSnapshot
    match_score: float
    fraud_risk: float | None
    fraud_level: RiskLevel
    reasons: list[Reason]
    data_as_of: datetime


class ShortlistOut(BaseModel):
    shortlist_id: str
    campaign_id: str
    tier: CampaignTier
    target_markets: list[str]
    model_name: str
    model_version: str
    candidates_considered: int
    entries: list[ShortlistEntryOut]


class CreatorOut(CreatorIn):
    fraud_risk: float | None
    fraud_level: RiskLevel
    fraud_reasons: list[Reason]
    updated_at: datetime


class CatalogStats(BaseModel):
    creators: int
    fraud_scored: int
    campaigns: int
