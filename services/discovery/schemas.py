"""Discovery request and response bodies."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from shared.events import AccountStats, CreatorSnapshot, MarketStats, Reason
from shared.vocabulary import (
    AGE_BANDS,
    CATEGORIES,
    LANGUAGES,
    MARKETS,
    TIERS,
    CampaignObjective,
    CampaignTier,
    Platform,
    RiskLevel,
)


@functools.cache
def _vocabulary(allowed: tuple[str, ...]) -> frozenset[str]:
    return frozenset(allowed)


def _known(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    # The common case is one C-level check: bulk ingest validates several of these per creator.
    if _vocabulary(allowed).issuperset(values):
        return values
    unknown = sorted(set(values) - _vocabulary(allowed))
    # Markets are every ISO country: name the standard rather than list 249 codes.
    known = "ISO 3166-1 alpha-2 codes" if allowed is MARKETS else ", ".join(allowed)
    raise ValueError(f"unknown {what}: {', '.join(unknown)} (known: {known})")


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) == len(values):
        return
    repeated = sorted({v for v in values if values.count(v) > 1})
    raise ValueError(f"each {what} may appear once; repeated: {', '.join(repeated)}")


UNKNOWN_MARKET = ""  # a creator whose country no source names (e.g. the TikTok ranking files)


class CreatorIn(BaseModel):
    """A creator as ingested: accounts per platform and audience per market (and, if known, age/gender)."""

    model_config = ConfigDict(extra="forbid")

    creator_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    home_market: str = Field(description="ISO country code of MARKETS, or '' when no source names it.")
    languages: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    accounts: list[AccountStats] = Field(min_length=1)
    audience: list[MarketStats] = Field(default_factory=list)
    price_usd: float | None = Field(None, ge=0)
    audience_female_share: float | None = Field(
        None, ge=0, le=1, description="Share of the audience that is female."
    )
    audience_age: dict[str, float] = Field(
        default_factory=dict, description="Audience share per age band (AGE_BANDS); empty when unknown."
    )
    bio: str = Field("", max_length=2000, description="The profile's bio, where the source has it.")
    top_audience_market: str = Field(
        UNKNOWN_MARKET,
        description="The country a source names as the audience's top one, its share not measured ('' "
        "when none). Searchable as an audience market; never taken for the creator's home country.",
    )
    measured_on: date | None = Field(
        None,
        description="When the source measured these figures (null: unknown). An older measurement never "
        "replaces a newer one, and an undated one never replaces a dated one.",
    )
    tags: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="The source's topics that are not in the category vocabulary, kept as written.",
    )
    recent_posts: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Captions of recent posts, newest first (brief keywords are matched against them).",
    )

    @field_validator("home_market")
    @classmethod
    def _home(cls, v: str) -> str:
        return v if v == UNKNOWN_MARKET else _known([v], MARKETS, "market")[0]

    @field_validator("top_audience_market")
    @classmethod
    def _top(cls, v: str) -> str:
        return v if v == UNKNOWN_MARKET else _known([v], MARKETS, "market")[0]

    @field_validator("audience_age")
    @classmethod
    def _ages(cls, v: dict[str, float]) -> dict[str, float]:
        _known(list(v), AGE_BANDS, "age band")
        if any(not 0 <= x <= 1 for x in v.values()) or sum(v.values()) > 1.01:
            raise ValueError("age band shares must be within 0..1 and add up to at most 1")
        return v

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
    """Creators to create or update, keyed by `creator_id`; sending the same payload again changes nothing."""

    model_config = ConfigDict(extra="forbid")

    creators: list[CreatorIn] = Field(min_length=1, max_length=5000, description="1 to 5,000 creators.")


class BulkResult(BaseModel):
    """What a bulk upsert did with each creator it received."""

    received: int = Field(description="Creators in the request.")
    created: int = Field(description="New to the catalogue (announced for fraud scoring).")
    updated: int = Field(description="Known, with a changed payload (announced again).")
    unchanged: int = Field(description="Known with the same payload: nothing stored or published.")
    older: int = Field(
        0,
        description="Measured before the stored figures (or undated where those are dated): kept the "
        "stored ones.",
    )


class BriefIn(BaseModel):
    """A campaign brief: what the brand wants, where, and how much human touch (tier)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Winter fitness app", "product": "home workout app", "category": "fitness",
                    "target_markets": ["RU", "KZ"], "platforms": ["vk", "telegram", "youtube"],
                    "budget_usd": 30000, "tier": "strategic", "brand_values": ["health"], "shortlist_size": 10,
                }
            ]
        },
    )  # fmt: skip

    name: str = Field(min_length=1, max_length=200)
    brand: str = Field("", max_length=200, description="Selects the brand's review settings.")
    objective: CampaignObjective = "awareness"
    starts_on: date | None = None
    ends_on: date | None = None
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
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError(f"ends_on ({self.ends_on}) is before starts_on ({self.starts_on})")
        return self

    @field_validator("keywords", "brand_values")
    @classmethod
    def _phrases(cls, v: list[str]) -> list[str]:
        # Blank phrases would match everything; repeated ones count once.
        return list(dict.fromkeys(p.strip() for p in v if p.strip()))


class ShortlistEntryOut(BaseModel):
    rank: int
    creator: CreatorSnapshot
    match_score: float
    fraud_risk: float | None
    fraud_level: RiskLevel
    reasons: list[Reason]
    data_as_of: datetime = Field(description="When the source measured the figures, else when they arrived.")
    confidence_notes: list[str] = Field(
        default_factory=list, description="Why the figures may be thin or the creator doubtful."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def confidence(self) -> Literal["high", "low"]:
        """low whenever there is a note: review routes such an entry to people."""
        return "low" if self.confidence_notes else "high"


class InsightOut(BaseModel):
    """A lesson from a past campaign or an expert's trend call that applies to this brief."""

    kind: Literal["lesson", "trend"]
    insight_id: str
    scope: str = Field(description="lesson: market, category, ...; trend: 'trend'")
    scope_value: str
    market: str | None
    platform: str | None = None
    text: str
    rule: str = ""
    direction: str | None = None
    confidence: float | None = None
    expires_on: date | None = None
    campaign_id: str | None = None
    author: str
    recorded_at: datetime


class ShortlistOut(BaseModel):
    shortlist_id: str
    campaign_id: str
    tier: CampaignTier
    target_markets: list[str]
    model_name: str
    model_version: str
    candidates_considered: int
    entries: list[ShortlistEntryOut]
    brand: str = ""
    owner: str = ""
    lessons: list[InsightOut] = Field(default_factory=list, description="Lessons in the brief's scope.")
    trends: list[InsightOut] = Field(default_factory=list, description="Live trend calls in its scope.")


class CreatorOut(CreatorIn):
    fraud_risk: float | None
    fraud_level: RiskLevel
    fraud_reasons: list[Reason]
    updated_at: datetime = Field(description="When the figures reached us.")
    data_as_of: datetime = Field(description="When the source measured them (updated_at when undated).")


class CatalogStats(BaseModel):
    """The size of your organisation's catalogue."""

    creators: int = Field(description="Creators in the catalogue.")
    fraud_scored: int = Field(description="Of those, creators the fraud service has scored.")
    campaigns: int = Field(description="Campaigns created from briefs.")


SortKey = Literal["followers", "engagement_rate", "growth", "fraud_risk", "price_usd"]


def _not_below(value: float | None, info: ValidationInfo, low_field: str) -> float | None:
    low = info.data.get(low_field)
    if value is not None and low is not None and low > value:
        raise ValueError(f"{low_field} ({low}) is greater than {info.field_name} ({value})")
    return value


class EngagementFilter(BaseModel):
    """Engagement rate >= min_rate in at least min_markets of `markets` (per-market engagement)."""

    model_config = ConfigDict(extra="forbid")

    markets: list[str] = Field(min_length=1, max_length=len(MARKETS))
    min_rate: float = Field(ge=0, le=1)
    min_markets: int = Field(1, ge=1)

    @field_validator("markets")
    @classmethod
    def _markets(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(_known(v, MARKETS, "market")))

    @field_validator("min_markets")
    @classmethod
    def _enough(cls, v: int, info: ValidationInfo) -> int:
        markets = info.data.get("markets") or []
        if markets and v > len(markets):
            raise ValueError(f"min_markets ({v}) is more than the {len(markets)} markets given")
        return v


class SearchIn(BaseModel):
    """Creator search: filters are ANDed across, values within one filter are ORed (any of)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "platforms": ["instagram", "tiktok"], "categories": ["beauty"],
                    "engagement": {"min_rate": 0.03, "markets": ["US", "RU", "BR", "IN"], "min_markets": 3},
                    "max_fraud_risk": 0.3, "sort": "followers", "limit": 20,
                }
            ]
        },
    )  # fmt: skip

    text: str | None = Field(
        None,
        min_length=2,
        max_length=200,
        description="A handle, name or topic word: hits come most relevant first (exact handle, then "
        "name, then bio, tags and posts), one page without a cursor; the other filters still apply.",
    )
    platforms: list[Platform] = Field(default_factory=list, description="Has an account on any of these.")
    min_followers: int | None = Field(None, ge=0)
    max_followers: int | None = Field(None, ge=0)
    tiers: list[str] = Field(
        default_factory=list, description="Follower tiers (nano, micro, mid, macro, mega)."
    )
    categories: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    audience_markets: list[str] = Field(
        default_factory=list, description="Audience share >= min in any of these."
    )
    min_audience_share: float = Field(0.1, ge=0, le=1)
    engagement: EngagementFilter | None = None
    min_female_share: float | None = Field(None, ge=0, le=1)
    max_female_share: float | None = Field(None, ge=0, le=1)
    age_bands: list[str] = Field(
        default_factory=list, description="Their summed audience share >= min_age_share."
    )
    min_age_share: float = Field(0.3, ge=0, le=1)
    max_fraud_risk: float | None = Field(None, ge=0, le=1)
    include_unscored: bool = Field(True, description="Keep creators not yet scored for fraud.")
    min_price_usd: float | None = Field(None, ge=0)
    max_price_usd: float | None = Field(None, ge=0)
    worked_with: Literal["any", "yes", "no"] = "any"
    min_outcome_vs_forecast: float | None = Field(
        None, ge=0, description="Past campaigns with us averaged at least this actual/forecast."
    )
    sort: SortKey = "followers"
    descending: bool = True
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=500)

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: list[str]) -> list[str]:
        return _known(v, tuple(t for t, _ in TIERS), "tier")

    @field_validator("categories")
    @classmethod
    def _categories(cls, v: list[str]) -> list[str]:
        return _known(v, CATEGORIES, "category")

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: list[str]) -> list[str]:
        return _known(v, LANGUAGES, "language")

    @field_validator("audience_markets")
    @classmethod
    def _markets(cls, v: list[str]) -> list[str]:
        return _known(v, MARKETS, "market")

    @field_validator("age_bands")
    @classmethod
    def _ages(cls, v: list[str]) -> list[str]:
        return _known(v, AGE_BANDS, "age band")

    @field_validator("max_followers")
    @classmethod
    def _followers(cls, v: int | None, info: ValidationInfo) -> int | None:
        _not_below(v, info, "min_followers")
        return v

    @field_validator("max_female_share")
    @classmethod
    def _female(cls, v: float | None, info: ValidationInfo) -> float | None:
        return _not_below(v, info, "min_female_share")

    @field_validator("max_price_usd")
    @classmethod
    def _price(cls, v: float | None, info: ValidationInfo) -> float | None:
        return _not_below(v, info, "min_price_usd")


class MarketFigure(BaseModel):
    market: str
    audience_share: float
    engagement_rate: float


class SearchHit(BaseModel):
    creator_id: str
    name: str
    home_market: str
    platforms: list[str]
    followers: int
    tier: str
    engagement_rate: float
    engagement_basis: str
    categories: list[str]
    languages: list[str]
    price_usd: float | None
    growth: float
    fraud_risk: float | None
    fraud_level: RiskLevel
    past_campaigns: int
    past_outcome: float | None
    audience: list[MarketFigure]
    confidence: Literal["high", "low"]
    confidence_notes: list[str]
    data_as_of: datetime = Field(description="When the source measured the figures, else when they arrived.")
    top_audience_market: str = Field(
        "", description="The top audience country a source names without its share ('' when none)."
    )
    tags: list[str] = Field(default_factory=list, description="Topics outside the category vocabulary.")


class SearchOut(BaseModel):
    hits: list[SearchHit]
    next_cursor: str | None
    sort: SortKey
    descending: bool


class LookalikesIn(BaseModel):
    """Seeds by id, and/or the winners (actual >= forecast) of past campaigns."""

    model_config = ConfigDict(extra="forbid")

    creator_ids: list[str] = Field(default_factory=list, max_length=100, description="Seed creators.")
    winners_of: list[str] = Field(
        default_factory=list, max_length=50, description="Campaign ids whose creators beat the forecast."
    )
    limit: int = Field(20, ge=1, le=100)

    @model_validator(mode="after")
    def _some_seed(self) -> LookalikesIn:
        if not self.creator_ids and not self.winners_of:
            raise ValueError("give creator_ids or winners_of")
        return self


class Lookalike(BaseModel):
    creator_id: str
    name: str
    home_market: str
    followers: int
    similarity: float = Field(description="Cosine similarity of audience and content vectors, -1..1.")
    shared_markets: list[str]
    shared_categories: list[str]


class LookalikesOut(BaseModel):
    seeds: list[str]
    features: list[str]
    candidates_considered: int
    results: list[Lookalike]


# --- a creator's audience report and history (audience.py, history.py) ---------------------------------

Confidence = Literal["high", "low", "unknown"]


class AudienceShareOut(BaseModel):
    value: str
    share: float | None = Field(description="Null when the source names the value without measuring it.")
    low: float | None = Field(None, description="95% interval, where a sample size makes one.")
    high: float | None = None


class MeasurementOut(BaseModel):
    """Where a figure came from, when it was measured and how sure it is."""

    source: str | None = Field(description="fraud audience check | catalogue import | null: no data yet")
    measured_at: datetime | None
    sample_size: int | None = Field(
        description="Followers the figure rests on; null when the source says not."
    )
    confidence: Confidence = Field(
        description="high: enough followers for a narrow interval; low: too few; unknown: no sample size."
    )
    note: str = ""


class AudienceSectionOut(MeasurementOut):
    shares: list[AudienceShareOut] = Field(default_factory=list, description="Largest share first.")


class FakeShareSectionOut(MeasurementOut):
    estimate: float | None = Field(description="Corrected fake-follower share; null when low confidence.")
    low: float | None = None
    high: float | None = None
    audience_quality_score: int | None = None
    model: str | None = Field(None, description="name:version of fraud's classifier")


class AudienceReportOut(BaseModel):
    creator_id: str
    name: str
    countries: AudienceSectionOut
    languages: AudienceSectionOut
    age: AudienceSectionOut
    gender: AudienceSectionOut
    fake_share: FakeShareSectionOut
    follower_types: AudienceSectionOut


class HistoryPointOut(BaseModel):
    measured_on: date
    followers: int
    engagement_rate: float


class HistorySeriesOut(BaseModel):
    platform: Platform
    points: list[HistoryPointOut] = Field(description="Oldest first.")


class AnomalyMarkerOut(BaseModel):
    anomaly_id: str
    kind: str
    severity: float
    status: str
    detected_on: date = Field(description="Where the marker sits on the series.")
    text: str


class HistoryOut(BaseModel):
    creator_id: str
    series: list[HistorySeriesOut]
    anomalies: list[AnomalyMarkerOut] = Field(description="Every anomaly fraud reported, oldest first.")
    chart: str = Field(description="Path of the same history drawn as an SVG chart.")
