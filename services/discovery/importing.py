"""Import the messy top-1000 ranking files (Instagram, TikTok, YouTube; 2022) into CreatorIn payloads.

What makes them messy (../shared/data/social_media_influencers_2022/README.md): headers differ per file
and were hand-edited (June's Instagram file has countries under "Views avg."), most figures appear twice
(abbreviated text "6.2M" and a numeric copy), cells hold "N/A", "N/A'", "#VALOR!" or "-", and files
begin with empty rows. So columns are recognised by their header *and* their content: the country column
is the one whose cells are country names, the handle the one whose cells look like handles. Every row
either becomes a creator or is rejected with a reason.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from services.discovery.schemas import UNKNOWN_MARKET, CreatorIn
from shared.countries import country_code
from shared.vocabulary import PLATFORMS

# The files' free-text categories onto our closed vocabulary, by the exact (lower-case) names they use;
# None: a topic we have no category for, kept as a tag. Names not listed fall back to CATEGORY_WORDS.
CATEGORY_SYNONYMS: dict[str, str | None] = {
    "music & dance": "music", "music": "music", "lifestyle": "lifestyle", "daily vlogs": "lifestyle",
    "diy & life hacks": "lifestyle", "diy & design": "lifestyle", "sports with a ball": "sports",
    "sports": "sports", "racing sports": "sports", "winter sports": "sports",
    "extreme sports & outdoor activity": "sports", "video games": "gaming", "gaming": "gaming",
    "humor": "humor", "humor & fun & happiness": "humor", "comics & sketches": "humor",
    "modeling": "fashion", "fashion": "fashion", "clothing & outfits": "fashion", "luxury": "fashion",
    "accessories & jewellery": "fashion", "beauty": "beauty", "toys": "parenting", "kids & toys": "parenting",
    "family": "parenting", "education": "education", "science": "education",
    "literature & journalism": "education", "food & drinks": "food", "food & cooking": "food",
    "science & technology": "tech", "computers & gadgets": "tech", "machinery & technologies": "tech",
    "fitness & gym": "fitness", "fitness": "fitness", "trainers & coaches": "fitness",
    "business & careers": "finance", "finance & economics": "finance", "crypto": "finance", "nft": "finance",
    "cars & motorbikes": "auto", "autos & vehicles": "auto", "travel": "travel",
    "nature & landscapes": "travel", "cinema & actors/actresses": None, "movies": None, "animation": None,
    "shows": None, "news & politics": None, "art/artists": None, "design/art": None, "photography": None,
    "adult content": None, "health & self help": None, "asmr": None, "animals & pets": None,
    "animals": None, "shopping & retail": None, "management & marketing": None, "mystery": None,
}  # fmt: skip
CATEGORY_WORDS: tuple[tuple[str, str], ...] = (
    ("beauty", "beauty"), ("fashion", "fashion"), ("clothing", "fashion"), ("fitness", "fitness"),
    ("gym", "fitness"), ("food", "food"), ("gaming", "gaming"), ("technolog", "tech"), ("travel", "travel"),
    ("music", "music"), ("education", "education"), ("finance", "finance"), ("lifestyle", "lifestyle"),
    ("sports", "sports"), ("humor", "humor"), ("cars", "auto"),
)  # fmt: skip
MISSING = {"", "-", "n/a", "n/a'", "na", "#valor!", "#value!", "none", "null", "nan"}
SCALE = {"k": 1e3, "m": 1e6, "b": 1e9}
HANDLE = re.compile(r"^[\w.\-]+$")
FILE_MONTH = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])(?:-(\d\d))?")
SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class FileImport:
    """What one file gave: creators, rejected rows with reasons, and what was dropped along the way."""

    path: Path
    platform: str
    rows: int = 0
    creators: list[CreatorIn] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)
    measured_on: date | None = None


def measured_on_of(path: Path) -> date | None:
    """The month (or day) a ranking was measured, from its file name ('instagram_2022-11.csv': the
    ranking of November 2022, dated its first day); None for the undated files."""
    found = FILE_MONTH.search(path.name)
    if found is None:
        return None
    year, month, day = found.groups()
    return date(int(year), int(month), int(day or 1))


def number(cell: str) -> float | None:
    """'6.2M' -> 6.2e6, '1,234' -> 1234; None for the files' many spellings of missing."""
    text = cell.strip().replace(",", "").replace(" ", "").rstrip("'")
    if text.lower() in MISSING:
        return None
    factor = SCALE.get(text[-1:].lower(), 1.0)
    if factor != 1.0:
        text = text[:-1]
    try:
        return float(text) * factor
    except ValueError:
        return None


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", header.lower()).strip()


def role(header: str) -> str | None:
    """What a column holds, by its header."""
    h = _norm(header)
    for word, name in (
        ("follower", "followers"), ("subscriber", "followers"), ("authentic", "engagement_auth"),
        ("eng auth", "engagement_auth"), ("engagement", "engagement_avg"), ("eng avg", "engagement_avg"),
        ("view", "views"), ("like", "likes"), ("comment", "comments"), ("share", "shares"),
        ("countr", "country"), ("categ", "category"), ("measured", "date"), ("date", "date"),
    ):  # fmt: skip
        if word in h:
            return name
    if h in ("s no", "rank", "row cell", ""):
        return "index"
    return "text"


def _share(values: list[str], test: object) -> float:
    filled = [v for v in values if v.strip()]
    return sum(bool(test(v)) for v in filled) / len(filled) if filled else 0.0  # type: ignore[operator]


def column_roles(headers: list[str], body: list[list[str]]) -> list[str]:
    """Roles by header, corrected by content: country names and handles are recognised where they are."""
    roles = [role(h) or "text" for h in headers]
    columns = [[r[i] if i < len(r) else "" for r in body] for i in range(len(headers))]
    for i, values in enumerate(columns):
        if _share(values, lambda v: len(v.strip()) > 2 and country_code(v) is not None) > 0.3:
            roles[i] = "country"
        elif roles[i] == "country":
            roles[i] = "ignored"  # a column named country that holds something else
    texts = [i for i, r in enumerate(roles) if r == "text"]
    if texts:
        handle = max(texts, key=lambda i: _share(columns[i], lambda v: HANDLE.match(v.strip())))
        roles[handle] = "handle"
        names = [i for i in texts if i != handle]
        if names:
            roles[names[0]] = "name"
    return roles


# What a row cannot do without, and the headers that provide it (`role` reads them).
NEEDED: dict[str, tuple[set[str], str]] = {
    "followers": ({"followers"}, "followers or subscribers column"),
    "engagement": (
        {"engagement_avg", "engagement_auth", "views", "likes", "comments", "shares"},
        "engagement, views, likes or comments column",
    ),
}


class WrongColumns(ValueError):
    """The file lacks columns every row needs: nothing in it could be imported."""

    hint = "A ranking file has one creator per row: a handle, a follower count and engagement figures."


def missing_columns(roles: list[str]) -> list[str]:
    """What the file lacks, in words: empty when every needed figure has a column."""
    return [words for found, words in NEEDED.values() if not found & set(roles)]


def platform_of(path: Path) -> str:
    for p in PLATFORMS:
        if path.name.lower().startswith(p):
            return p
    raise ValueError(f"{path.name}: cannot tell the platform from the file name (want one of {PLATFORMS})")


def _topic(value: str) -> tuple[str | None, str]:
    """A source topic as (our category or None, the topic as written, lower case)."""
    low = SPACES.sub(" ", value.strip().lower())
    if low in CATEGORY_SYNONYMS:
        return CATEGORY_SYNONYMS[low], low
    return next((ours for word, ours in CATEGORY_WORDS if word in low), None), low


def topics(values: list[str], notes: Counter[str]) -> tuple[list[str], list[str]]:
    """Categories through the synonym table; topics without one are kept as tags (and counted)."""
    categories: list[str] = []
    tags: list[str] = []
    for v in values:
        if not v.strip() or v.strip().lower() in MISSING:
            continue
        ours, written = _topic(v)
        if ours is None:
            notes[f"topic kept as a tag (no category for it): {v.strip()}"] += 1
            if written[:64] not in tags:
                tags.append(written[:64])
        elif ours not in categories:
            categories.append(ours)
    return categories, tags


def _first(cells: dict[str, list[str]], name: str) -> float | None:
    """The first readable figure among a role's columns (text and numeric copies)."""
    return next((n for n in map(number, cells.get(name, [])) if n is not None), None)


def engagement(platform: str, cells: dict[str, list[str]], followers: float) -> tuple[float, str] | None:
    """Engagement rate and its basis: per view where views are given (video), else per follower."""
    views = _first(cells, "views")
    interactions = sum(
        n for n in (_first(cells, k) for k in ("likes", "comments", "shares")) if n is not None
    )
    if platform == "instagram":
        avg = _first(cells, "engagement_avg") or _first(cells, "engagement_auth") or interactions
        return (avg / followers, "per_follower") if avg else None
    if not interactions:
        return None
    if views:
        return interactions / views, "per_view"
    return interactions / followers, "per_follower"


def account(
    platform: str, handle: str, followers: float, er: tuple[float, str], cells: dict[str, list[str]]
) -> dict[str, object]:
    return {
        "platform": platform,
        "handle": handle[:200],
        "followers": int(followers),
        "engagement_rate": round(er[0], 6),
        "engagement_basis": er[1],
        "avg_views": _first(cells, "views") or 0,
        "avg_likes": _first(cells, "likes") or 0,
        "avg_comments": _first(cells, "comments") or 0,
    }


def _row_date(cells: dict[str, list[str]], default: date | None) -> date | None:
    """A row's own measurement date where the file has a date column, else the file's."""
    for cell in cells.get("date", []):
        try:
            return date.fromisoformat(cell.strip()[:10])
        except ValueError:
            continue
    return default


def parse_row(
    platform: str, roles: list[str], row: list[str], notes: Counter[str], measured_on: date | None = None
) -> CreatorIn | str:
    """A CreatorIn, or the reason the row cannot be one."""
    if not any(c.strip() for c in row):
        return "empty row"
    cells: dict[str, list[str]] = {}
    for r, c in zip(roles, row, strict=False):
        cells.setdefault(r, []).append(c)
    handle = next((c.strip() for c in cells.get("handle", []) if c.strip()), "")
    if not handle:
        return "no account handle"
    followers = _first(cells, "followers")
    if followers is None or followers <= 0:
        return f"followers unreadable: {' / '.join(cells.get('followers', [])) or 'missing'}"
    er = engagement(platform, cells, followers)
    if er is None:
        return "no engagement figures (views, likes, comments all missing or zero)"
    if er[0] > 1:
        return f"engagement rate {er[0]:.0%} is above 100% ({er[1]}): figures inconsistent"
    # The rankings' country is where most of the audience is, not where the creator lives: it becomes
    # the top audience market with its share unknown, and the home country stays unknown.
    country = next((c.strip() for c in cells.get("country", []) if c.strip().lower() not in MISSING), "")
    market = country_code(country) or UNKNOWN_MARKET
    if country and market == UNKNOWN_MARKET:
        notes[f"not a country, imported without an audience market: {country}"] += 1
    name = next((c.strip() for c in cells.get("name", []) if c.strip()), handle)
    categories, tags = topics(cells.get("category", []), notes)
    payload = {
        "creator_id": f"{platform[:2]}-{SPACES.sub('_', handle.lower())}"[:64],
        "name": name[:200],
        "home_market": UNKNOWN_MARKET,
        "top_audience_market": market,
        "measured_on": _row_date(cells, measured_on),
        "categories": categories,
        "tags": tags,
        "accounts": [account(platform, handle, followers, er, cells)],
        "audience": [],
    }
    try:
        return CreatorIn.model_validate(payload)
    except ValidationError as exc:
        return "invalid: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def read_ranking_file(path: Path, platform: str | None = None, measured_on: date | None = None) -> FileImport:
    """Every row of one ranking file, as a creator or a rejection with its reason.

    The platform and the measurement date come from the file name unless given (a date column, where
    a file has one, dates its own rows); WrongColumns when no row could ever be read.
    """
    platform = platform or platform_of(path)
    measured_on = measured_on or measured_on_of(path)
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        rows = list(csv.reader(fh))
    out = FileImport(path=path, platform=platform, measured_on=measured_on)
    if not rows:
        return out
    headers, body = rows[0], rows[1:]
    roles = column_roles(headers, body)
    if missing := missing_columns(roles):
        raise WrongColumns(
            f"{path.name} has no {' and no '.join(missing)} (its columns: {', '.join(headers)[:300]})"
        )
    seen: set[str] = set()
    for line, row in enumerate(body, start=2):
        out.rows += 1
        result = parse_row(platform, roles, row, out.notes, measured_on)
        if isinstance(result, str):
            out.rejected.append(Rejected(line=line, reason=result))
        elif result.creator_id in seen:
            out.rejected.append(
                Rejected(line=line, reason=f"repeats {result.creator_id} from an earlier row")
            )
        else:
            seen.add(result.creator_id)
            out.creators.append(result)
    return out
