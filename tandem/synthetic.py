"""A synthetic but realistic world of creators, past campaigns and posts, for the demo and first models.

Where the distributions come from (see README, "Demo data"):
- follower counts: a Pareto tail (alpha 0.55 above 1k followers) gives ~28% of creators above 10k and
  ~2% above 1M, the shape of the ranking files in ../shared/data/social_media_influencers_2022, whose
  top-1000 lists run from ~1M to ~500M followers;
- engagement falls with tier: Instagram nano creators ~2.2% per follower (product.md), falling as
  followers^-0.2 to ~0.5% for mega accounts; short video is per view (Rival IQ 2023: TikTok ~5.7%);
- audience countries: the Instagram Dec-2022 ranking's top audience countries (US, BR, IN, ID, MX, ES,
  AR, GB, RU ...), with RU and its neighbours weighted up because they are target markets of ours;
- fraud: ~12% of accounts show one of two known patterns (bought followers: a growth spike and low
  engagement; engagement pods: high engagement with comment-heavy, generic interaction).
The hidden rules that decide campaign outcomes and post reach are here, so tests can check that models
learn them; services never import this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from shared.norms import engagement_norm
from shared.vocabulary import CATEGORIES, FORMATS, MESSAGE_KINDS, SHORT_VIDEO_PLATFORMS

MARKET_WEIGHTS: dict[str, float] = {
    "US": 0.20,
    "RU": 0.16,
    "BR": 0.10,
    "IN": 0.10,
    "ID": 0.08,
    "MX": 0.05,
    "GB": 0.05,
    "DE": 0.04,
    "ES": 0.04,
    "FR": 0.03,
    "TR": 0.03,
    "KZ": 0.04,
    "UA": 0.02,
    "IT": 0.02,
    "CA": 0.02,
    "AR": 0.02,
}
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "US": ("CA", "GB", "MX"),
    "RU": ("KZ", "UA"),
    "BR": ("AR", "US"),
    "IN": ("US", "GB"),
    "ID": ("IN", "US"),
    "MX": ("US", "ES", "AR"),
    "GB": ("US", "CA", "DE"),
    "DE": ("GB", "FR", "IT"),
    "ES": ("MX", "AR", "FR"),
    "FR": ("DE", "ES", "IT"),
    "TR": ("DE", "RU"),
    "KZ": ("RU", "UA"),
    "UA": ("RU", "KZ", "DE"),
    "IT": ("FR", "DE", "ES"),
    "CA": ("US", "GB", "FR"),
    "AR": ("ES", "MX", "BR"),
}
LANGUAGE: dict[str, str] = {
    "US": "en",
    "GB": "en",
    "CA": "en",
    "IN": "hi",
    "RU": "ru",
    "KZ": "kk",
    "UA": "uk",
    "BR": "pt",
    "ID": "id",
    "MX": "es",
    "ES": "es",
    "AR": "es",
    "DE": "de",
    "FR": "fr",
    "TR": "tr",
    "IT": "it",
}
RU_SPHERE = frozenset({"RU", "KZ", "UA"})
PLATFORMS_BY_SPHERE: dict[bool, tuple[tuple[str, float], ...]] = {
    True: (("vk", 0.35), ("telegram", 0.25), ("youtube", 0.2), ("instagram", 0.1), ("tiktok", 0.1)),
    False: (("instagram", 0.45), ("tiktok", 0.3), ("youtube", 0.25)),
}
FRAUD_SHARE = 0.12
SYLLABLES = ("ka", "li", "mo", "ra", "ne", "so", "vi", "ta", "lu", "mi", "zo", "da", "ri", "ve", "an", "el")


@dataclass
class Creator:
    """One creator with the payload discovery ingests and the hidden truth the demo world keeps."""

    payload: dict[str, Any]
    is_fraud: bool
    fraud_kind: str
    quality: float  # hidden: how well this creator's audience converts, whatever its size

    @property
    def creator_id(self) -> str:
        return str(self.payload["creator_id"])


@dataclass
class World:
    creators: list[Creator]
    seed: int
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def payloads(self) -> list[dict[str, Any]]:
        return [c.payload for c in self.creators]


def _handle(rng: np.random.Generator, n: int) -> str:
    parts = rng.choice(SYLLABLES, size=int(rng.integers(2, 4)))
    return "".join(parts) + f"_{n}"


def _audience(rng: np.random.Generator, home: str) -> dict[str, float]:
    near = NEIGHBOURS[home]
    others = [m for m in MARKET_WEIGHTS if m != home and m not in near]
    far = list(rng.choice(others, size=2, replace=False))
    markets = [home, *near, *far]
    alpha = np.array([6.0] + [1.2] * len(near) + [0.4] * len(far))
    shares = rng.dirichlet(alpha)
    return {m: float(np.floor(s * 1e4) / 1e4) for m, s in zip(markets, shares, strict=True) if s >= 0.005}


def _account(rng: np.random.Generator, platform: str, followers: int, fraud_kind: str) -> dict[str, Any]:
    er = engagement_norm(platform, followers) * float(rng.lognormal(0, 0.45))
    median_growth = float(rng.lognormal(np.log(0.02), 0.5))
    max_growth = median_growth * float(rng.uniform(1.3, 3.0))
    following = int(followers * float(rng.uniform(0.001, 0.05)) + rng.integers(50, 800))
    comment_share = float(rng.uniform(0.02, 0.06))
    # Real signals overlap: a third of fraud is subtle, and honest creators go viral or draw chatty fans.
    strength = float(rng.uniform(0.2, 0.6)) if rng.random() < 0.35 else 1.0
    if fraud_kind == "bought_followers":
        er *= 1 - strength * float(rng.uniform(0.55, 0.85))
        max_growth = max(max_growth, strength * float(rng.uniform(0.25, 1.2)))
        following = int(following * (1 + strength * rng.uniform(1, 7)))
    elif fraud_kind == "engagement_pod":
        er *= 1 + strength * float(rng.uniform(1.0, 3.0))
        comment_share = max(comment_share, strength * float(rng.uniform(0.12, 0.3)))
    elif rng.random() < 0.06:
        max_growth = float(rng.uniform(0.15, 0.7))  # a viral month
    elif rng.random() < 0.05:
        comment_share = float(rng.uniform(0.08, 0.2))  # a community that talks
    er = min(er, 0.5)
    basis = "per_view" if platform in SHORT_VIDEO_PLATFORMS else "per_follower"
    avg_views = followers * float(rng.uniform(0.1, 0.6)) if platform != "instagram" else followers * 0.3
    interactions = er * (avg_views if basis == "per_view" else followers)
    return {
        "platform": platform,
        "handle": "",
        "followers": followers,
        "following": following,
        "posts": int(rng.integers(30, 3000)),
        "engagement_rate": round(er, 5),
        "engagement_basis": basis,
        "avg_likes": round(interactions * (1 - comment_share), 1),
        "avg_comments": round(interactions * comment_share, 1),
        "avg_views": round(avg_views, 1),
        "max_monthly_growth": round(max_growth, 4),
        "median_monthly_growth": round(median_growth, 4),
    }


def _pick_platforms(rng: np.random.Generator, home: str) -> list[str]:
    options = PLATFORMS_BY_SPHERE[home in RU_SPHERE]
    names = [p for p, _ in options]
    weights = np.array([w for _, w in options])
    count = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
    return list(rng.choice(names, size=min(count, len(names)), replace=False, p=weights / weights.sum()))


def make_creator(rng: np.random.Generator, n: int) -> Creator:
    home = str(
        rng.choice(
            list(MARKET_WEIGHTS), p=np.array(list(MARKET_WEIGHTS.values())) / sum(MARKET_WEIGHTS.values())
        )
    )
    followers = int(min(1000 * (1 - rng.random()) ** (-1 / 0.55), 300_000_000))
    is_fraud = bool(rng.random() < FRAUD_SHARE)
    fraud_kind = str(rng.choice(["bought_followers", "engagement_pod"])) if is_fraud else "none"
    handle = _handle(rng, n)
    accounts = []
    for i, platform in enumerate(_pick_platforms(rng, home)):
        size = followers if i == 0 else int(followers * float(rng.uniform(0.05, 0.8)))
        acc = _account(rng, platform, max(size, 500), fraud_kind)
        acc["handle"] = handle if i == 0 else f"{handle}.{platform}"
        accounts.append(acc)
    audience = _audience(rng, home)
    main_er = accounts[0]["engagement_rate"]
    markets = [
        {
            "market": m,
            "audience_share": s,
            "engagement_rate": round(min(main_er * float(rng.lognormal(0, 0.3)), 0.6), 5),
        }
        for m, s in sorted(audience.items(), key=lambda kv: -kv[1])
    ]
    languages = sorted(
        {
            LANGUAGE[home],
            *([LANGUAGE[markets[1]["market"]]] if len(markets) > 1 and rng.random() < 0.4 else []),
        }
    )
    categories = list(rng.choice(CATEGORIES, size=int(rng.choice([1, 2], p=[0.6, 0.4])), replace=False))
    price = followers * 0.01 * float(rng.lognormal(0, 0.35))  # ~ $10 per 1k followers per post
    payload = {
        "creator_id": f"cr-{n:07d}",
        "name": handle.replace("_", " ").title(),
        "home_market": home,
        "languages": languages,
        "categories": [str(c) for c in categories],
        "accounts": accounts,
        "audience": markets,
        "price_usd": round(max(price, 20.0), 2),
    }
    payload.update(_profile_text(n, [str(c) for c in categories]))
    quality = float(rng.normal(0, 1))
    return Creator(payload=payload, is_fraud=is_fraud, fraud_kind=fraud_kind, quality=quality)


# What creators of a category write about, so brief keywords have something to find.
TOPICS: dict[str, tuple[str, ...]] = {
    "beauty": ("sunscreen", "skincare", "makeup", "SPF 50", "serum", "glow routine"),
    "fitness": ("home workout", "running", "yoga", "strength training", "meal prep"),
    "food": ("recipes", "street food", "baking", "vegan"),
    "tech": ("smartphones", "laptops", "gadgets", "AI tools"),
    "travel": ("beaches", "city breaks", "hiking", "budget travel"),
    "fashion": ("streetwear", "outfits", "sneakers", "thrift finds"),
}


def _profile_text(n: int, categories: list[str]) -> dict[str, Any]:
    """A bio and a few post captions from the creator's topics. A generator of its own per creator, so
    the rest of the world (and the models trained on it) stays exactly as it was."""
    rng = np.random.default_rng(n)
    topics = [t for c in categories for t in TOPICS.get(c, (c,))]
    picked = [str(t) for t in rng.choice(topics, size=min(2, len(topics)), replace=False)]
    posts = [f"My honest take on {t} this week" for t in rng.choice(topics, size=3)]
    return {"bio": f"Sharing {' and '.join(picked)} every week", "recent_posts": posts}


def generate_world(n_creators: int, seed: int = 7) -> World:
    rng = np.random.default_rng(seed)
    return World(creators=[make_creator(rng, i) for i in range(n_creators)], seed=seed)


# --- past campaigns: what decided success ---------------------------------------------------------------


def random_brief(rng: np.random.Generator, n: int) -> dict[str, Any]:
    home = str(rng.choice(list(MARKET_WEIGHTS)))
    k = int(rng.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))
    markets = [
        home,
        *list(rng.choice(NEIGHBOURS[home], size=min(k - 1, len(NEIGHBOURS[home])), replace=False)),
    ]
    sphere = home in RU_SPHERE
    platforms = [p for p, _ in PLATFORMS_BY_SPHERE[sphere]]
    return {
        "name": f"past campaign {n}",
        "product": "product",
        "category": str(rng.choice(CATEGORIES)),
        "target_markets": [str(m) for m in markets],
        "platforms": list(
            rng.choice(platforms, size=int(rng.integers(1, len(platforms) + 1)), replace=False)
        ),
        "languages": [],
        "budget_usd": float(rng.choice([5_000, 20_000, 100_000, 500_000])),
        "tier": str(rng.choice(["strategic", "volume"])),
    }


def campaign_success_probability(creator: Creator, brief: dict[str, Any]) -> float:
    """The world's hidden truth: audience in the target markets, engagement vs norm, fit and fraud."""
    p = creator.payload
    shares = {m["market"]: m for m in p["audience"]}
    target_share = sum(shares[m]["audience_share"] for m in brief["target_markets"] if m in shares)
    acc = p["accounts"][0]
    norm = engagement_norm(acc["platform"], acc["followers"])
    er_ratio = acc["engagement_rate"] / norm
    if creator.is_fraud:
        er_ratio = 0.3  # fake engagement does not buy anything
    logit = (
        -2.2
        + 3.2 * target_share
        + 1.1 * np.log(max(er_ratio, 0.05))
        + 0.9 * (brief["category"] in p["categories"])
        + 0.5 * (acc["platform"] in brief["platforms"])
        + 0.6 * creator.quality
        - 2.0 * creator.is_fraud
    )
    return float(1 / (1 + np.exp(-logit)))


def past_campaigns(world: World, n_campaigns: int, per_campaign: int, seed: int = 11) -> list[dict[str, Any]]:
    """Outcomes of past collaborations: brief, creator and whether the campaign beat its goal."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in range(n_campaigns):
        brief = random_brief(rng, n)
        for idx in rng.choice(len(world.creators), size=per_campaign, replace=False):
            creator = world.creators[int(idx)]
            success = bool(rng.random() < campaign_success_probability(creator, brief))
            rows.append({"brief": brief, "creator": creator, "success": success})
    return rows


# --- posts: what decided reach and engagement -----------------------------------------------------------

FORMAT_REACH = {"post": 0.25, "reel": 0.6, "story": 0.12, "long_video": 0.35, "stream": 0.08}
FORMAT_ENGAGEMENT = {"post": 1.0, "reel": 1.2, "story": 0.5, "long_video": 1.1, "stream": 1.5}
# The world's market effect the forecast model and, later, human adjustments should find: RU audiences
# skew older and respond less to short video.
MARKET_FORMAT_EFFECT = {("RU", "reel"): 0.6, ("RU", "post"): 1.15, ("KZ", "reel"): 0.7}
# What the content is about. Categories differ in how much people interact (ordered loosely after the Rival
# IQ 2023 industry benchmark, where entertainment and sport draw several times the engagement per post of
# finance or tech); a creator's own niche is what its audience followed it for, so it is shown more and
# answered more, and content off the niche is scrolled past.
CATEGORY_ENGAGEMENT = {
    "beauty": 1.1, "fashion": 1.05, "fitness": 1.1, "food": 1.15, "gaming": 1.25, "tech": 0.8, "travel": 1.0,
    "music": 1.2, "education": 0.85, "finance": 0.7, "lifestyle": 1.0, "parenting": 0.95, "sports": 1.2,
    "humor": 1.4, "auto": 0.85,
}  # fmt: skip
NICHE_REACH = {True: 1.15, False: 0.8}
NICHE_ENGAGEMENT = {True: 1.3, False: 0.7}
# What the message does (the UCI page-posts classes): stories inspire answers, offers are read and acted on
# (clicks) more than liked.
MESSAGE_REACH = {"offer": 0.95, "product": 1.0, "story": 1.05}
MESSAGE_ENGAGEMENT = {"offer": 0.8, "product": 1.0, "story": 1.25}
# Share of past posts whose plan said the category / the message kind (the rest: not said, as in old records).
CATEGORY_SAID = 0.85
KIND_SAID = 0.7
ON_NICHE_SHARE = 0.6  # creators mostly post in their own categories


def post_outcome(
    rng: np.random.Generator,
    creator: Creator,
    account: dict[str, Any],
    fmt: str,
    market: str,
    hour: int,
    paid: bool,
    category: str | None = None,
    kind: str | None = None,
) -> tuple[float, float]:
    """Reach and engagements of one post; `category` and `kind` (None: the world's average content) move
    both without drawing from `rng`, so callers that do not say them see the same random stream."""
    share = next((m["audience_share"] for m in creator.payload["audience"] if m["market"] == market), 0.01)
    prime = 1.25 if 18 <= hour <= 22 else (0.8 if hour < 8 else 1.0)
    effect = MARKET_FORMAT_EFFECT.get((market, fmt), 1.0)
    niche = None if category is None else category in creator.payload["categories"]
    content_reach = (1.0 if niche is None else NICHE_REACH[niche]) * MESSAGE_REACH.get(kind or "", 1.0)
    content_eng = (
        CATEGORY_ENGAGEMENT.get(category or "", 1.0)
        * (1.0 if niche is None else NICHE_ENGAGEMENT[niche])
        * MESSAGE_ENGAGEMENT.get(kind or "", 1.0)
    )
    reach = account["followers"] * share * FORMAT_REACH[fmt] * prime * effect * (1.6 if paid else 1.0)
    reach *= float(rng.lognormal(0, 0.35)) * (0.4 if creator.is_fraud else 1.0) * content_reach
    engagement = reach * min(account["engagement_rate"] * 1.5, 0.9) * FORMAT_ENGAGEMENT[fmt] * effect
    engagement *= float(rng.lognormal(0, 0.3)) * (0.3 if creator.is_fraud else 1.0) * content_eng
    return max(reach, 1.0), max(engagement, 0.0)


def post_content(rng: np.random.Generator, creator: Creator) -> tuple[str, str, bool, bool]:
    """(category, message kind, whether the plan said the category, whether it said the kind)."""
    own = creator.payload["categories"]
    category = str(rng.choice(own) if rng.random() < ON_NICHE_SHARE else rng.choice(CATEGORIES))
    kind = str(rng.choice(MESSAGE_KINDS))
    return category, kind, bool(rng.random() < CATEGORY_SAID), bool(rng.random() < KIND_SAID)


def past_posts(world: World, n_posts: int, seed: int = 13) -> list[dict[str, Any]]:
    """Posts with what decided them; the content (category, message) is drawn from a generator of its own,
    so every other draw is the one it was before content mattered."""
    rng = np.random.default_rng(seed)
    content_rng = np.random.default_rng([seed, 1])
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for _ in range(n_posts):
        creator = world.creators[int(rng.integers(len(world.creators)))]
        account = creator.payload["accounts"][int(rng.integers(len(creator.payload["accounts"])))]
        market = creator.payload["audience"][int(rng.integers(min(3, len(creator.payload["audience"]))))][
            "market"
        ]
        fmt = str(rng.choice(FORMATS))
        hour, paid = int(rng.integers(0, 24)), bool(rng.random() < 0.3)
        category, kind, category_said, kind_said = post_content(content_rng, creator)
        reach, engagement = post_outcome(rng, creator, account, fmt, market, hour, paid, category, kind)
        posted = start + timedelta(days=int(rng.integers(0, 600)), hours=hour)
        rows.append(
            {
                "creator": creator,
                "account": account,
                "format": fmt,
                "market": market,
                "hour": hour,
                "weekday": posted.weekday(),
                "paid": paid,
                "category": category if category_said else None,
                "on_niche": category in creator.payload["categories"] if category_said else None,
                "message_kind": kind if kind_said else None,
                "reach": reach,
                "engagements": engagement,
            }
        )
    return rows
