"""Brief keywords against what a creator writes: which of their texts mention which keyword.

The catalogue keeps a creator's name, categories, bio and recent post captions (CreatorIn). A keyword
matches a text as whole words, case-insensitively ("spf" does not match "spfx"), so the reason a
reviewer reads names exactly where the keyword appears.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime

from services.discovery.schemas import CreatorIn
from shared.events import Reason

# The ranking boost for a creator who mentions every keyword; half the keywords earn half of it. Small
# beside the model's score spread (a shortlist's scores span ~0.3): keywords reorder close calls, they do
# not lift a poor audience fit over a good one.
FULL_BOOST = 0.08
SOURCES = ("bio", "recent posts", "name", "categories")


@dataclass(frozen=True)
class KeywordMatch:
    keywords: tuple[str, ...]
    found: dict[str, tuple[str, ...]] = field(default_factory=dict)  # keyword -> sources mentioning it
    posts_mentioning: int = 0

    @property
    def share(self) -> float:
        return len(self.found) / len(self.keywords) if self.keywords else 0.0

    @property
    def boost(self) -> float:
        return round(FULL_BOOST * self.share, 4)


@functools.lru_cache(maxsize=512)
def _pattern(keyword: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, keyword.split())) + r"(?!\w)", re.IGNORECASE)


def texts_of(creator: CreatorIn) -> dict[str, list[str]]:
    return {
        "bio": [creator.bio] if creator.bio else [],
        "recent posts": creator.recent_posts,
        "name": [creator.name],
        "categories": creator.categories,
    }


def match(keywords: list[str], creator: CreatorIn) -> KeywordMatch:
    """Which keywords the creator's texts mention, and where."""
    if not keywords:
        return KeywordMatch(())
    texts = texts_of(creator)
    found: dict[str, tuple[str, ...]] = {}
    posts = 0
    for keyword in keywords:
        pattern = _pattern(keyword)
        where = tuple(s for s in SOURCES if any(pattern.search(t) for t in texts[s]))
        if where:
            found[keyword] = where
    if found:
        patterns = [_pattern(k) for k in found]
        posts = sum(any(p.search(t) for p in patterns) for t in creator.recent_posts)
    return KeywordMatch(tuple(keywords), found, posts)


def _quoted(words: list[str] | tuple[str, ...]) -> str:
    quoted = [f"'{w}'" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _sources(where: tuple[str, ...]) -> str:
    """The sources as the subject of "mention(s)": "bio mentions", "bio and recent posts mention"."""
    if len(where) == 1:
        return where[0] + (" mention" if where[0].endswith("s") else " mentions")
    return ", ".join(where[:-1]) + " and " + where[-1] + " mention"


def reason(m: KeywordMatch, as_of: datetime | None) -> Reason | None:
    """ "bio and recent posts mention 'sunscreen' (1 of 2 keywords; 3 of 5 recent posts)" """
    if not m.keywords:
        return None
    if not m.found:
        return Reason(
            code="keywords",
            text=f"no mention of {_quoted(m.keywords)} in name, bio, categories or recent posts",
            value=0,
            reference=len(m.keywords),
            direction=-1,
            as_of=as_of,
        )
    by_sources: dict[tuple[str, ...], list[str]] = {}
    for keyword, where in m.found.items():
        by_sources.setdefault(where, []).append(keyword)
    parts = [f"{_sources(where)} {_quoted(words)}" for where, words in by_sources.items()]
    detail = f"{len(m.found)} of {len(m.keywords)} keywords"
    if m.posts_mentioning:
        detail += f"; {m.posts_mentioning} {'recent posts mention' if m.posts_mentioning > 1 else 'recent post mentions'} them"
    return Reason(
        code="keywords",
        text=f"{'; '.join(parts)} ({detail}; ranking +{m.boost:.2f})",
        value=len(m.found),
        reference=len(m.keywords),
        direction=1,
        as_of=as_of,
    )
