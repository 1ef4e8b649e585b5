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


# Looked up without the cache: hashing the 249-code tuple for functools.cache cost ~1 us per check, and
# bulk ingest checks two or three market lists per creator.
_MARKET_SET = frozenset(MARKETS)


def _known(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    # The common case is one C-level check: bulk ingest validates several of these per creator.
    vocabulary = _MARKET_SET if allowed is MARKETS else _vocabulary(allowed)
    if vocabulary.issuperset(values):
        return values
    unknown = sorted(set(values) - vocabulary)
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

    creator_id: str = Field(
        min_length=1,
        max_length=64,
        description="Your id for the creator (1-64 characters), stable across imports: re-sending it updates the creator.",
    )
    name: str = Field(min_length=1, max_length=200, description="Display name (1-200 characters).")
    home_market: str = Field(description="ISO country code of MARKETS, or '' when no source names it.")
    languages: list[str] = Field(
        default_factory=list,
        description="Languages the creator posts in (ISO 639-1 codes from the vocabulary, e.g. en, ru).",
    )
    categories: list[str] = Field(
        default_factory=list,
        description="Content categories from the vocabulary (e.g. beauty, fitness, gaming); unknown values are refused naming the known ones.",
    )
    accounts: list[AccountStats] = Field(
        min_length=1, description="The creator's social accounts, at most one per platform (at least one)."
    )
    audience: list[MarketStats] = Field(
        default_factory=list,
        description="Audience by country; shares add up to at most 1. Leave empty when unknown.",
    )
    price_usd: float | None = Field(
        None, ge=0, description="What one sponsored post costs, in US dollars; null when unknown."
    )
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
        markets = [m.market for m in v]
        _known(markets, MARKETS, "market")
        _unique(markets, "market in audience")
        if sum(m.audience_share for m in v) > 1.01:  # rounding in real exports adds up to a little over 1
            raise ValueError("audience shares add up to more than 1")
        return v


BULK_CREATORS_IN_EXAMPLE = {
    "creators": [
        {
            "creator_id": "cr-0000042",
            "name": "Zoda Fit",
            "home_market": "DE",
            "languages": ["de", "en"],
            "categories": ["fitness"],
            "accounts": [
                {
                    "platform": "instagram",
                    "handle": "zodafit",
                    "followers": 85000,
                    "engagement_rate": 0.031,
                    "avg_likes": 2500,
                    "avg_comments": 140,
                }
            ],
            "audience": [
                {"market": "DE", "audience_share": 0.62, "engagement_rate": 0.033},
                {"market": "AT", "audience_share": 0.11, "engagement_rate": 0.029},
            ],
            "price_usd": 1200,
            "measured_on": "2026-11-30",
        }
    ]
}


class BulkCreatorsIn(BaseModel, json_schema_extra={"examples": [BULK_CREATORS_IN_EXAMPLE]}):
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

    name: str = Field(min_length=1, max_length=200, description="The campaign's name (1-200 characters).")
    brand: str = Field("", max_length=200, description="Selects the brand's review settings.")
    objective: CampaignObjective = Field(
        "awareness",
        description="What the campaign is for: awareness (reach), engagement, or conversions; forecasts and the shortlist weigh creators by it.",
    )
    starts_on: date | None = Field(None, description="First day of the campaign, if known.")
    ends_on: date | None = Field(
        None, description="Last day of the campaign, if known (not before starts_on)."
    )
    product: str = Field(
        "", max_length=500, description="What is promoted, in a few words (up to 500 characters)."
    )
    category: str = Field(
        description="The product's content category from the vocabulary (e.g. fitness); creators in it match better."
    )
    target_markets: list[str] = Field(
        min_length=1,
        max_length=10,
        description="Countries the campaign targets (1-10 ISO 3166-1 alpha-2 codes); creators need audience there.",
    )
    platforms: list[Platform] = Field(
        min_length=1, description="Networks the campaign runs on; creators need an account on one of them."
    )
    languages: list[str] = Field(
        default_factory=list, description="Languages the content must be in (ISO 639-1); empty means any."
    )
    budget_usd: float | None = Field(
        None,
        gt=0,
        description="Total budget in US dollars; creators priced far above budget / shortlist size rank lower.",
    )
    tier: CampaignTier = Field(
        "volume",
        description="How much human touch: strategic (people review every finalist) or volume (the routing policy decides clear cases, people the rest).",
    )
    brand_values: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Values the brand stands for (up to 20); reviewers are asked whether each creator's content lives them.",
    )
    keywords: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Words or phrases (up to 50) matched against creators' bios, tags and recent posts; a match lifts a creator.",
    )
    exclude_creator_ids: list[str] = Field(
        default_factory=list, max_length=1000, description="Creators never to shortlist (up to 1,000 ids)."
    )
    min_followers: int | None = Field(None, ge=0, description="Least followers on the largest account.")
    max_followers: int | None = Field(
        None, ge=0, description="Most followers on the largest account (not below min_followers)."
    )
    max_fraud_risk: float = Field(
        0.8,
        ge=0,
        le=1,
        description="Creators scored above this fraud risk (0-1) are left out; unscored creators stay in and are flagged.",
    )
    min_target_share: float = Field(
        0.1, ge=0, le=1, description="Least audience share in the target markets."
    )
    shortlist_size: int | None = Field(
        None,
        ge=1,
        le=200,
        description="How many creators to shortlist (1-200); the service's default (20) when left out.",
    )

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
    """One shortlisted creator with the scores and reasons behind its rank."""

    rank: int = Field(description="Position on the shortlist, 1 is the best match.")
    creator: CreatorSnapshot = Field(description="The creator as the ranking saw it.")
    match_score: float = Field(
        description="How well the creator fits the brief, 0-1 (the ranking model's score, with keyword and lesson adjustments)."
    )
    fraud_risk: float | None = Field(
        description="Fraud risk from the fraud service, 0 (clean) to 1; null until the creator has been scored."
    )
    fraud_level: RiskLevel = Field(
        description="The fraud risk in words: low, medium, high, or unknown when not scored yet."
    )
    reasons: list[Reason] = Field(
        description="Why the creator ranks here (fit, audience, fraud, keywords, past results), most important first."
    )
    data_as_of: datetime = Field(description="When the source measured the figures, else when they arrived.")
    confidence_notes: list[str] = Field(
        default_factory=list, description="Why the figures may be thin or the creator doubtful."
    )
    person: PersonOut | None = Field(
        None, description="The person behind this creator and all their accounts, when linked to others."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def confidence(self) -> Literal["high", "low"]:
        """low whenever there is a note: review routes such an entry to people."""
        return "low" if self.confidence_notes else "high"


class InsightOut(BaseModel):
    """A lesson from a past campaign or an expert's trend call that applies to this brief."""

    kind: Literal["lesson", "trend"] = Field(
        description="lesson (a person's diagnosis after a past campaign) or trend (an expert's call about what is rising or falling)."
    )
    insight_id: str = Field(description="Id of the lesson or trend call.")
    scope: str = Field(description="lesson: market, category, ...; trend: 'trend'")
    scope_value: str = Field(
        description="What it applies to: the market code, category, creator id or format named by `scope`."
    )
    market: str | None = Field(description="The market it is narrowed to, or null for all.")
    platform: str | None = Field(None, description="The platform it is narrowed to, or null for all.")
    text: str = Field(description="The insight in the author's words.")
    rule: str = Field("", description="A lesson's rule of thumb for next time, if the author gave one.")
    direction: str | None = Field(None, description="A trend's direction: up or down; null for lessons.")
    confidence: float | None = Field(None, description="A trend caller's confidence, 0-1; null for lessons.")
    expires_on: date | None = Field(
        None, description="Last day a trend call applies; null when it does not expire."
    )
    campaign_id: str | None = Field(None, description="The campaign a lesson was learnt on, or null.")
    author: str = Field(description="Who recorded it (the authenticated person).")
    recorded_at: datetime = Field(description="When it was recorded (UTC).")


class ShortlistOut(BaseModel):
    """A brief's shortlist: the best-matching creators, ranked, with the campaign it created."""

    shortlist_id: str = Field(description="Id of this shortlist.")
    campaign_id: str = Field(
        description="Id of the campaign the brief created (use it in review and forecast)."
    )
    tier: CampaignTier = Field(description="The brief's tier (strategic or volume).")
    target_markets: list[str] = Field(description="The brief's target countries.")
    model_name: str = Field(description="Name of the ranking model.")
    model_version: str = Field(description="Version of the ranking model.")
    candidates_considered: int = Field(
        description="Creators that passed the brief's filters and were ranked."
    )
    entries: list[ShortlistEntryOut] = Field(description="The shortlisted creators, best first.")
    brand: str = Field("", description="The brief's brand ('' when none).")
    owner: str = Field("", description="Who created the brief (the authenticated caller).")
    lessons: list[InsightOut] = Field(default_factory=list, description="Lessons in the brief's scope.")
    trends: list[InsightOut] = Field(default_factory=list, description="Live trend calls in its scope.")


class CreatorOut(CreatorIn):
    """A creator in your catalogue, with its latest fraud score."""

    fraud_risk: float | None = Field(
        description="Fraud risk from the fraud service, 0 (clean) to 1; null until the creator has been scored."
    )
    fraud_level: RiskLevel = Field(
        description="The fraud risk in words: low, medium, high, or unknown when not scored yet."
    )
    fraud_reasons: list[Reason] = Field(
        description="The reasons behind the fraud score, most important first; empty until scored."
    )
    updated_at: datetime = Field(description="When the figures reached us.")
    data_as_of: datetime = Field(description="When the source measured them (updated_at when undated).")
    person: PersonOut | None = Field(None, description="The person behind this creator, when linked.")
    versions: list[FigureVersion] = Field(
        default_factory=list,
        description="Every differing version of the figures that reached us (two sources that disagree "
        "are both kept), newest measured first; `shown` marks the one above.",
    )


class FigureVersion(BaseModel):
    """One version of a creator's figures, as a source sent it."""

    measured_on: date | None = Field(description="When the source measured them (null: undated).")
    received_at: datetime = Field(description="When discovery received this version (UTC).")
    followers: dict[str, int] = Field(description="Followers per platform in this version.")
    shown: bool = Field(description="True for the version the creator shows (the newest measured).")
    note: str = Field(description="Why it is or is not the one shown.")


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

    markets: list[str] = Field(
        min_length=1,
        max_length=len(MARKETS),
        description="Countries whose per-market engagement is checked (ISO 3166-1 alpha-2).",
    )
    min_rate: float = Field(
        ge=0, le=1, description="Least engagement rate in a market, fraction 0-1 (0.03 is 3%)."
    )
    min_markets: int = Field(
        1,
        ge=1,
        description="In how many of `markets` the rate must be reached (at least 1, at most the number of markets).",
    )

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
        "name, then bio, tags and posts), paged by `next_cursor`; the other filters still apply.",
    )
    platforms: list[Platform] = Field(default_factory=list, description="Has an account on any of these.")
    min_followers: int | None = Field(None, ge=0, description="Least followers (largest account).")
    max_followers: int | None = Field(
        None, ge=0, description="Most followers (largest account), not below min_followers."
    )
    tiers: list[str] = Field(
        default_factory=list, description="Follower tiers (nano, micro, mid, macro, mega)."
    )
    categories: list[str] = Field(default_factory=list, description="In any of these content categories.")
    languages: list[str] = Field(
        default_factory=list, description="Posts in any of these languages (ISO 639-1)."
    )
    audience_markets: list[str] = Field(
        default_factory=list, description="Audience share >= min in any of these."
    )
    min_audience_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Least audience share (0-1) in one of `audience_markets` for a creator to match.",
    )
    engagement: EngagementFilter | None = Field(None, description="Per-market engagement filter.")
    min_female_share: float | None = Field(
        None, ge=0, le=1, description="Least female share of the audience, 0-1."
    )
    max_female_share: float | None = Field(
        None, ge=0, le=1, description="Most female share of the audience, 0-1 (not below min_female_share)."
    )
    age_bands: list[str] = Field(
        default_factory=list, description="Their summed audience share >= min_age_share."
    )
    min_age_share: float = Field(
        0.3, ge=0, le=1, description="Least summed audience share (0-1) of the `age_bands`."
    )
    max_fraud_risk: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Most fraud risk, 0-1 (see include_unscored for creators not yet scored).",
    )
    include_unscored: bool = Field(True, description="Keep creators not yet scored for fraud.")
    min_price_usd: float | None = Field(None, ge=0, description="Least price per post in US dollars.")
    max_price_usd: float | None = Field(None, ge=0, description="Most price per post in US dollars.")
    worked_with: Literal["any", "yes", "no"] = Field(
        "any", description="yes: only creators with past campaigns with you; no: only new ones; any: both."
    )
    min_outcome_vs_forecast: float | None = Field(
        None, ge=0, description="Past campaigns with us averaged at least this actual/forecast."
    )
    sort: SortKey = Field("followers", description="What to sort by.")
    descending: bool = Field(True, description="Largest first (true) or smallest first.")
    limit: int = Field(50, ge=1, le=200, description="Hits per page, 1-200.")
    cursor: str | None = Field(
        None,
        max_length=500,
        description="The previous page's `next_cursor`, for the next page; leave out for the first page.",
    )

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


class LinkedAccount(BaseModel):
    """One account of a person with several, and how it came to be linked."""

    creator_id: str = Field(description="The catalogue creator that holds this account.")
    platform: str = Field(description="The account's platform (instagram, tiktok, youtube, vk, ...).")
    handle: str = Field(description="The account's handle on that platform.")
    followers: int = Field(description="The account's followers, as last measured.")
    method: str = Field(description="cross_link | handle | name | manual: what linked it.")
    confidence: float = Field(description="How sure the link is, 0..1 (1 when a person linked it).")
    evidence: str = Field("", description="What the link rests on, in words (e.g. the same handle and name).")
    decided_by: str | None = Field(None, description="The person who linked it; null when the linker did.")


class PersonOut(BaseModel):
    """A person behind several catalogue creators (accounts), largest account first; no accounts when
    an unlink left nothing to link."""

    person_id: str = Field(description="The person's id (stable while any of their accounts stays linked).")
    accounts: list[LinkedAccount] = Field(description="Every linked account, largest first.")


class PersonLinkIn(BaseModel):
    """Creators a person says are one person (recorded as the caller)."""

    model_config = ConfigDict(extra="forbid")

    creator_ids: list[str] = Field(
        min_length=2, max_length=20, description="2 to 20 distinct creator ids, all of one person."
    )

    @field_validator("creator_ids")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        _unique(v, "creator id")
        return v


class LinkRunOut(BaseModel):
    """What a run of the linker did."""

    accounts_linked: int = Field(description="Accounts this run added to (or moved between) persons.")
    persons: int = Field(description="Persons with several accounts in the catalogue after the run.")
    accounts_in_persons: int = Field(description="Accounts that belong to a person with several accounts.")


class MarketFigure(BaseModel):
    """A creator's audience in one country."""

    market: str = Field(description="ISO 3166-1 alpha-2 country code, upper case (e.g. DE).")
    audience_share: float = Field(description="Share of the audience in this country, 0-1.")
    engagement_rate: float = Field(description="Engagement rate of that audience, fraction 0-1.")


class SearchHit(BaseModel):
    """One creator found by a search."""

    creator_id: str = Field(description="The creator's id in your catalogue.")
    name: str = Field(description="Display name.")
    home_market: str = Field(
        description="Country the creator is based in (ISO 3166-1 alpha-2), '' when no source names it."
    )
    platforms: list[str] = Field(description="Networks the creator has an account on.")
    followers: int = Field(description="Followers on the largest account.")
    tier: str = Field(
        description="Follower tier: nano (<10k), micro (10k-50k), mid (50k-500k), macro (500k-1M), mega (1M+)."
    )
    engagement_rate: float = Field(description="Engagement rate of the largest account, fraction 0-1.")
    engagement_basis: str = Field(description="What the rate is divided by: per_follower or per_view.")
    categories: list[str] = Field(description="Content categories.")
    languages: list[str] = Field(description="Languages the creator posts in.")
    price_usd: float | None = Field(description="Price per sponsored post in US dollars, null when unknown.")
    growth: float = Field(
        description="Median monthly follower growth of the largest account, as a fraction (0.02 is 2% a month)."
    )
    fraud_risk: float | None = Field(
        description="Fraud risk from the fraud service, 0 (clean) to 1; null until the creator has been scored."
    )
    fraud_level: RiskLevel = Field(
        description="The fraud risk in words: low, medium, high, or unknown when not scored yet."
    )
    past_campaigns: int = Field(description="Campaigns the creator ran with you.")
    past_outcome: float | None = Field(
        description="Mean actual / forecast over those campaigns (1.0 is on forecast); null without history."
    )
    audience: list[MarketFigure] = Field(description="Audience by country, largest first.")
    confidence: Literal["high", "low"] = Field(
        description="low when `confidence_notes` has anything (thin or doubtful data), else high."
    )
    confidence_notes: list[str] = Field(
        description="Why the figures may be thin or the creator doubtful (e.g. stale data, not yet scored)."
    )
    data_as_of: datetime = Field(description="When the source measured the figures, else when they arrived.")
    top_audience_market: str = Field(
        "", description="The top audience country a source names without its share ('' when none)."
    )
    tags: list[str] = Field(default_factory=list, description="Topics outside the category vocabulary.")
    person: PersonOut | None = Field(
        None, description="The person behind this creator and all their accounts, when linked to others."
    )


class SearchOut(BaseModel):
    """One page of search hits."""

    hits: list[SearchHit] = Field(description="The creators found, in the requested order.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
    sort: SortKey = Field(description="The sort used.")
    descending: bool = Field(description="Whether the order is largest first.")


LOOKALIKES_IN_EXAMPLE = {"creator_ids": ["cr-0000042"], "limit": 20}


class LookalikesIn(BaseModel, json_schema_extra={"examples": [LOOKALIKES_IN_EXAMPLE]}):
    """Seeds by id, and/or the winners (actual >= forecast) of past campaigns."""

    model_config = ConfigDict(extra="forbid")

    creator_ids: list[str] = Field(default_factory=list, max_length=100, description="Seed creators.")
    winners_of: list[str] = Field(
        default_factory=list, max_length=50, description="Campaign ids whose creators beat the forecast."
    )
    limit: int = Field(20, ge=1, le=100, description="How many lookalikes to return, 1-100.")

    @model_validator(mode="after")
    def _some_seed(self) -> LookalikesIn:
        if not self.creator_ids and not self.winners_of:
            raise ValueError("give creator_ids or winners_of")
        return self


class Lookalike(BaseModel):
    """A creator similar to the seeds."""

    creator_id: str = Field(description="The creator's id.")
    name: str = Field(description="Display name.")
    home_market: str = Field(description="Country the creator is based in (ISO 3166-1 alpha-2).")
    followers: int = Field(description="Followers on the largest account.")
    similarity: float = Field(description="Cosine similarity of audience and content vectors, -1..1.")
    shared_markets: list[str] = Field(description="Audience countries it shares with the seeds.")
    shared_categories: list[str] = Field(description="Content categories it shares with the seeds.")


class LookalikesOut(BaseModel):
    """Creators most similar to the seeds, most similar first."""

    seeds: list[str] = Field(
        description="The seed creator ids used (given, and winners of the named campaigns)."
    )
    features: list[str] = Field(
        description="The features similarity is computed on (audience per market, categories, platforms)."
    )
    candidates_considered: int = Field(description="Creators compared with the seeds.")
    results: list[Lookalike] = Field(description="The lookalikes, most similar first.")


# --- a creator's audience report and history (audience.py, history.py) ---------------------------------

Confidence = Literal["high", "low", "unknown"]


class AudienceShareOut(BaseModel):
    """One value of an audience dimension and its share."""

    value: str = Field(
        description="The value: a country or language code, an age band, a gender or a follower type."
    )
    share: float | None = Field(description="Null when the source names the value without measuring it.")
    low: float | None = Field(None, description="95% interval, where a sample size makes one.")
    high: float | None = Field(None, description="Upper end of the 95% interval.")


class MeasurementOut(BaseModel):
    """Where a figure came from, when it was measured and how sure it is."""

    source: str | None = Field(description="fraud audience check | catalogue import | null: no data yet")
    measured_at: datetime | None = Field(description="When the figure was measured (UTC); null when unknown.")
    sample_size: int | None = Field(
        description="Followers the figure rests on; null when the source says not."
    )
    confidence: Confidence = Field(
        description="high: enough followers for a narrow interval; low: too few; unknown: no sample size."
    )
    note: str = Field("", description="Anything a reader should know about the figure, in words.")


class AudienceSectionOut(MeasurementOut):
    """One audience dimension: its shares, with where they came from and how sure they are."""

    shares: list[AudienceShareOut] = Field(default_factory=list, description="Largest share first.")


class FakeShareSectionOut(MeasurementOut):
    """The fake-follower share, with where it came from and how sure it is."""

    estimate: float | None = Field(description="Corrected fake-follower share; null when low confidence.")
    low: float | None = Field(None, description="Lower end of the 95% interval.")
    high: float | None = Field(None, description="Upper end of the 95% interval.")
    audience_quality_score: int | None = Field(
        None, description="0-100 from fraud's audience check; null when low confidence."
    )
    model: str | None = Field(None, description="name:version of fraud's classifier")


class AudienceReportOut(BaseModel):
    """A creator's audience report: each section with its source, measurement date and confidence."""

    creator_id: str = Field(description="The creator's id.")
    name: str = Field(description="The creator's name.")
    countries: AudienceSectionOut = Field(description="Where the followers live (ISO 3166-1 alpha-2 codes).")
    languages: AudienceSectionOut = Field(description="The followers' languages (ISO 639-1 codes).")
    age: AudienceSectionOut = Field(description="The followers' age bands.")
    gender: AudienceSectionOut = Field(description="The followers' gender.")
    fake_share: FakeShareSectionOut = Field(description="The share of fake followers.")
    follower_types: AudienceSectionOut = Field(
        description="Shares of real, influencer, mass-follower and suspicious followers."
    )


class HistoryPointOut(BaseModel):
    """One measurement of an account."""

    measured_on: date = Field(description="When the source measured it (the ingest date when it gave none).")
    followers: int = Field(description="Followers then.")
    engagement_rate: float = Field(description="Engagement rate then, as a fraction (0.021 = 2.1%).")


class HistorySeriesOut(BaseModel):
    """One account's measurements."""

    platform: Platform = Field(description="The account's platform.")
    points: list[HistoryPointOut] = Field(description="Oldest first.")


class AnomalyMarkerOut(BaseModel):
    """An anomaly fraud reported, placed on the series at its detection date."""

    anomaly_id: str = Field(description="Fraud's id for the anomaly.")
    kind: str = Field(
        description="What kind of anomaly (growth_spike, low_engagement, high_engagement, like_comment_ratio, generic_comments, engagement_pod, traffic_burst)."
    )
    severity: float = Field(description="How severe, 0-1.")
    status: str = Field(description="open | confirmed | dismissed (a person's verdict).")
    detected_on: date = Field(description="Where the marker sits on the series.")
    text: str = Field(description="What was found, in words.")


class HistoryOut(BaseModel):
    """A creator's follower and engagement history per account, with fraud's anomalies."""

    creator_id: str = Field(description="The creator's id.")
    series: list[HistorySeriesOut] = Field(description="One series per account (platform).")
    anomalies: list[AnomalyMarkerOut] = Field(description="Every anomaly fraud reported, oldest first.")
    chart: str = Field(description="Path of the same history drawn as an SVG chart.")
