"""Closed vocabularies every service agrees on: platforms, markets, formats, categories, tiers."""

from __future__ import annotations

from typing import Literal, get_args

from shared.countries import COUNTRY_NAMES

Platform = Literal["instagram", "tiktok", "youtube", "vk", "telegram"]
ContentFormat = Literal["post", "reel", "story", "long_video", "stream"]
CampaignTier = Literal["strategic", "volume"]
Decision = Literal["approve", "reject", "needs_info"]
RiskLevel = Literal["low", "medium", "high", "unknown"]
CampaignObjective = Literal["awareness", "engagement", "conversions"]
# A campaign moves forward through these; the review service's campaign record owns the stage.
CampaignStage = Literal["brief", "shortlist", "review", "planning", "live", "closed"]
# What a lesson or a trend call is about; it applies where its scope matches a brief, plan line or task.
InsightScope = Literal["market", "category", "creator", "format", "message", "timing", "platform"]
# What a message does, as the UCI Facebook page-posts data classes posts: an offer (its "action": a
# discount, a contest, a call to act now), the product itself, or a story (its "inspiration").
MessageKind = Literal["offer", "product", "story"]

PLATFORMS: tuple[str, ...] = get_args(Platform)
FORMATS: tuple[str, ...] = get_args(ContentFormat)
CAMPAIGN_STAGES: tuple[str, ...] = get_args(CampaignStage)
MESSAGE_KINDS: tuple[str, ...] = get_args(MessageKind)

# ISO 3166-1 alpha-2 codes: every country is a market. The markets the demo and the models were built on
# come first, in their old order (positions some features were computed over stay put); the rest follow
# alphabetically. The list is closed so that a typo ("UA " or "USA") is a 4xx, not an empty result.
CORE_MARKETS: tuple[str, ...] = (
    "US", "RU", "BR", "IN", "ID", "MX", "GB", "DE", "ES", "FR", "TR", "KZ", "UA", "IT", "CA", "AR",
    # Audience countries with 20+ creators in the 2022 top-1000 ranking files (discovery's importer).
    "TH", "PH", "CO", "IR", "KR", "IQ", "EG", "PK", "JP", "DZ",
)  # fmt: skip
MARKETS: tuple[str, ...] = CORE_MARKETS + tuple(sorted(set(COUNTRY_NAMES) - set(CORE_MARKETS)))

Category = Literal[
    "beauty", "fashion", "fitness", "food", "gaming", "tech", "travel", "music", "education", "finance",
    "lifestyle", "parenting", "sports", "humor", "auto",
]  # fmt: skip
CATEGORIES: tuple[str, ...] = get_args(Category)

# Audience age bands, as HypeAuditor and Modash report them: discovery's filters and fraud's samples.
AGE_BANDS: tuple[str, ...] = ("13-17", "18-24", "25-34", "35-44", "45-54", "55+")
LANGUAGES: tuple[str, ...] = ("en", "ru", "pt", "hi", "id", "es", "de", "fr", "tr", "kk", "uk", "it")

# Short video is measured per view, feed content per follower (product.md: vendors disagree by 10x
# exactly because they mix the two). Every engagement figure says which basis it uses.
EngagementBasis = Literal["per_follower", "per_view"]
SHORT_VIDEO_PLATFORMS: frozenset[str] = frozenset({"tiktok"})

# Follower tiers as the industry names them; bounds are lower-inclusive.
TIERS: tuple[tuple[str, int], ...] = (
    ("nano", 1_000),
    ("micro", 10_000),
    ("mid", 50_000),
    ("macro", 500_000),
    ("mega", 1_000_000),
)


def follower_tier(followers: int) -> str:
    """Tier name for a follower count (below 1k is still 'nano')."""
    name = TIERS[0][0]
    for tier, lower in TIERS:
        if followers >= lower:
            name = tier
    return name
