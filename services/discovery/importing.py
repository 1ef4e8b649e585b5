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
from pathlib import Path

from pydantic import ValidationError

from services.discovery.schemas import UNKNOWN_MARKET, CreatorIn
from shared.vocabulary import MARKETS, PLATFORMS

COUNTRIES: dict[str, str] = {
    "united states": "US", "usa": "US", "russia": "RU", "brazil": "BR", "india": "IN", "indonesia": "ID",
    "mexico": "MX", "united kingdom": "GB", "germany": "DE", "spain": "ES", "france": "FR", "turkey": "TR",
    "kazakhstan": "KZ", "ukraine": "UA", "italy": "IT", "canada": "CA", "argentina": "AR", "thailand": "TH",
    "philippines": "PH", "colombia": "CO", "iran": "IR", "south korea": "KR", "iraq": "IQ", "egypt": "EG",
    "pakistan": "PK", "japan": "JP", "algeria": "DZ",
}  # fmt: skip
# The files' free-text categories onto our closed vocabulary; anything else is kept out and counted.
CATEGORY_WORDS: tuple[tuple[str, str], ...] = (
    ("beauty", "beauty"), ("fashion", "fashion"), ("clothing", "fashion"), ("modeling", "fashion"),
    ("accessories", "fashion"), ("luxury", "fashion"), ("fitness", "fitness"), ("gym", "fitness"),
    ("food", "food"), ("video games", "gaming"), ("gaming", "gaming"), ("technolog", "tech"),
    ("computers", "tech"), ("gadgets", "tech"), ("science", "education"), ("travel", "travel"),
    ("music", "music"), ("education", "education"), ("literature", "education"), ("finance", "finance"),
    ("business", "finance"), ("crypto", "finance"), ("lifestyle", "lifestyle"), ("daily vlogs", "lifestyle"),
    ("diy", "lifestyle"), ("family", "parenting"), ("kids", "parenting"), ("toys", "parenting"),
    ("sports", "sports"), ("humor", "humor"), ("comics", "humor"), ("cars", "auto"), ("autos", "auto"),
)  # fmt: skip
MISSING = {"", "-", "n/a", "n/a'", "na", "#valor!", "#value!", "none", "null", "nan"}
SCALE = {"k": 1e3, "m": 1e6, "b": 1e9}
HANDLE = re.compile(r"^[\w.\-]+$")
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
        ("countr", "country"), ("categ", "category"),
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
        if _share(values, lambda v: v.strip().lower() in COUNTRIES) > 0.3:
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


def _categories(values: list[str], notes: Counter[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        low = v.strip().lower()
        if not low or low in MISSING:
            continue
        mapped = next((ours for word, ours in CATEGORY_WORDS if word in low), None)
        if mapped is None:
            notes[f"category not in our vocabulary, left out: {v.strip()}"] += 1
        elif mapped not in out:
            out.append(mapped)
    return out


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


def parse_row(platform: str, roles: list[str], row: list[str], notes: Counter[str]) -> CreatorIn | str:
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
    country = next((c.strip() for c in cells.get("country", []) if c.strip().lower() not in MISSING), "")
    market = COUNTRIES.get(country.lower(), UNKNOWN_MARKET)
    if country and market == UNKNOWN_MARKET:
        notes[f"country not in our markets, imported without one: {country}"] += 1
    if market and market not in MARKETS:
        market = UNKNOWN_MARKET
    name = next((c.strip() for c in cells.get("name", []) if c.strip()), handle)
    payload = {
        "creator_id": f"{platform[:2]}-{SPACES.sub('_', handle.lower())}"[:64],
        "name": name[:200],
        "home_market": market,
        "categories": _categories(cells.get("category", []), notes),
        "accounts": [
            {
                "platform": platform,
                "handle": handle[:200],
                "followers": int(followers),
                "engagement_rate": round(er[0], 6),
                "engagement_basis": er[1],
                "avg_views": _first(cells, "views") or 0,
                "avg_likes": _first(cells, "likes") or 0,
                "avg_comments": _first(cells, "comments") or 0,
            }
        ],
        "audience": [],
    }
    try:
        return CreatorIn.model_validate(payload)
    except ValidationError as exc:
        return "invalid: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def read_ranking_file(path: Path, platform: str | None = None) -> FileImport:
    """Every row of one ranking file, as a creator or a rejection with its reason.

    The platform comes from the file name unless given; WrongColumns when no row could ever be read.
    """
    platform = platform or platform_of(path)
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        rows = list(csv.reader(fh))
    out = FileImport(path=path, platform=platform)
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
        result = parse_row(platform, roles, row, out.notes)
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
