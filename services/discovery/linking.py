"""The linker: which catalogue creators are one person, from normalised handles and names and from a
source's cross-links (the same account under two creators), with a confidence.

It links one account per platform (two accounts of a person on one platform are left for a person to
link; the same account named by two sources is one account),
never joins what a person split, never moves a link a person made, and a second run links nothing new.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from itertools import combinations
from typing import Any

from sqlmodel import Session, col, select

from services.discovery.models import Creator, PersonMember, PersonSplit
from services.discovery.schemas import LinkRunOut

AUTO_LINK_AT = 0.75  # below this, a pair is too doubtful to link without a person
MIN_KEY = 4  # shorter handle or name keys ("tv", "ali") are shared by too many strangers
DISTINCT_KEY = 6  # a key this long is rarely two strangers' (one-word names like "bella" are)
CROWDED = 8  # a key shared by more creators than this is generic ("music", "video"): no evidence
HANDLE_NOISE = re.compile(r"(official|oficial|vevo|tv)$")


def _fold(value: str) -> str:
    """NFKC, case-folded, accents removed: 'Kylie 🤍' and 'KYLIE' fold alike."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", value).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def compact_handle(handle: str) -> str:
    """A handle without '@', case, accents and separators (., _, -): how one account is spelt anywhere."""
    return "".join(c for c in _fold(handle) if c.isalnum())


def handle_key(handle: str) -> str:
    """A compact handle without a trailing 'official'/'vevo'/'tv': how a person names their accounts."""
    compact = compact_handle(handle)
    stripped = HANDLE_NOISE.sub("", compact)
    return stripped if len(stripped) >= MIN_KEY else compact


def name_key(name: str) -> str:
    """A display name as words of letters and digits only (emoji and punctuation dropped)."""
    words = "".join(c if c.isalnum() else " " for c in _fold(name)).split()
    return " ".join(words)


@dataclass(frozen=True)
class Account:
    """What the linker knows of one catalogue creator."""

    creator_id: str
    name: str
    handles: frozenset[tuple[str, str]]  # (platform, compact handle): one account each

    @cached_property
    def name_key(self) -> str:
        return name_key(self.name)

    @cached_property
    def handle_keys(self) -> frozenset[str]:
        return frozenset(handle_key(k) for _, k in self.handles)


def account_of(creator_id: str, profile: dict[str, Any]) -> Account:
    accounts = profile["accounts"]
    return Account(
        creator_id=creator_id,
        name=profile["name"],
        handles=frozenset((a["platform"], compact_handle(a["handle"])) for a in accounts),
    )


@dataclass(frozen=True)
class Match:
    method: str
    confidence: float
    evidence: str


def match(a: Account, b: Account) -> Match | None:
    """Why two creators are the same person, and how sure; None when nothing links them."""
    same_account = a.handles & b.handles
    if same_account:
        platform, key = sorted(same_account)[0]
        return Match("cross_link", 0.99, f"the same {platform} account ({key}) in two sources")
    names_equal = len(a.name_key) >= MIN_KEY and a.name_key == b.name_key
    shared = {k for k in a.handle_keys & b.handle_keys if len(k) >= MIN_KEY}
    if shared:
        key = sorted(shared)[0]
        if names_equal:
            return Match("handle", 0.97, f"handle {key} and name {a.name!r} on both")
        # Different names: a long handle is still distinctive, a short one ("nina") is not.
        return Match("handle", 0.9 if len(key) >= DISTINCT_KEY else 0.7, f"handle {key} on both")
    if names_equal:
        compact = a.name_key.replace(" ", "")
        in_handles = all(any(compact in k for k in x.handle_keys) for x in (a, b))
        if in_handles and (" " in a.name_key or len(compact) >= DISTINCT_KEY):
            return Match("name", 0.8, f"name {a.name!r} on both, and in both handles")
        return Match("name", 0.6, f"name {a.name!r} on both")
    return None


def candidate_pairs(accounts: list[Account]) -> list[tuple[Match, Account, Account]]:
    """Pairs sharing a handle or name key, best evidence first; crowded keys give no evidence."""
    buckets: dict[str, list[Account]] = defaultdict(list)
    for acc in accounts:
        for key in acc.handle_keys | {acc.name_key}:
            if len(key) >= MIN_KEY:
                buckets[key].append(acc)
    seen: set[tuple[str, str]] = set()
    out = []
    for bucket in buckets.values():
        if len(bucket) > CROWDED:
            continue
        for a, b in combinations(bucket, 2):
            pair = (min(a.creator_id, b.creator_id), max(a.creator_id, b.creator_id))
            if pair in seen or a.creator_id == b.creator_id:
                continue
            seen.add(pair)
            found = match(a, b)
            if found is not None and found.confidence >= AUTO_LINK_AT:
                out.append((found, a, b))
    return sorted(out, key=lambda t: (-t[0].confidence, t[1].creator_id, t[2].creator_id))


def person_id_for(creator_ids: Iterable[str]) -> str:
    """A stable id for a new person, from its first account."""
    return "p-" + hashlib.sha256(min(creator_ids).encode()).hexdigest()[:20]


class Groups:
    """Persons being formed: their members, and the splits people decided."""

    def __init__(self, members: list[PersonMember], splits: set[tuple[str, str]]) -> None:
        self.person: dict[str, str] = {m.creator_id: m.person_id for m in members}
        self.members: dict[str, set[str]] = defaultdict(set)
        for m in members:
            self.members[m.person_id].add(m.creator_id)
        self.splits = splits

    def group(self, creator_id: str) -> set[str]:
        pid = self.person.get(creator_id)
        return set(self.members[pid]) if pid else {creator_id}

    def may_join(self, a: str, b: str, accounts: dict[str, Account]) -> bool:
        """Not already one person, not split by a person, not two persons already (a person merges
        those), and one account per platform: a shared platform must be the same account."""
        ga, gb = self.group(a), self.group(b)
        if ga & gb or (a in self.person and b in self.person):
            return False
        if any((x, y) in self.splits or (y, x) in self.splits for x in ga for y in gb):
            return False

        def handles(group: set[str]) -> list[tuple[str, str]]:
            return [h for c in group if c in accounts for h in accounts[c].handles]

        held = dict(handles(ga))
        return all(held.get(p, k) == k for p, k in handles(gb))

    def join(self, a: str, b: str) -> tuple[str, set[str]]:
        """Join b's group into a's (keeping an existing person id); returns it and the new members."""
        ga, gb = self.group(a), self.group(b)
        pid = self.person.get(a) or self.person.get(b) or person_id_for(ga | gb)
        new = {c for c in ga | gb if self.person.get(c) != pid}
        for c in ga | gb:
            self.person[c] = pid
        self.members[pid] |= ga | gb
        return pid, new


def _catalogue(session: Session, org_id: str) -> list[Account]:
    """What the linker needs of every creator, streamed: payloads are dropped as soon as they are read."""
    stmt = select(col(Creator.creator_id), col(Creator.profile)).where(Creator.org_id == org_id)
    rows = session.exec(stmt.execution_options(yield_per=5000))
    return [account_of(cid, profile) for cid, profile in rows]


def _splits(session: Session, org_id: str) -> set[tuple[str, str]]:
    stmt = select(col(PersonSplit.creator_id), col(PersonSplit.other_id)).where(PersonSplit.org_id == org_id)
    return {(a, b) for a, b in session.exec(stmt)}


def auto_link(session: Session, org_id: str) -> LinkRunOut:
    """Link the catalogue's accounts that are one person (idempotent: a second run links nothing new)."""
    accounts = _catalogue(session, org_id)
    by_id = {a.creator_id: a for a in accounts}
    existing = list(session.exec(select(PersonMember).where(PersonMember.org_id == org_id)))
    rows = {m.creator_id: m for m in existing}
    groups = Groups(existing, _splits(session, org_id))
    now = datetime.now(UTC)
    linked = 0
    for found, a, b in candidate_pairs(accounts):
        if not groups.may_join(a.creator_id, b.creator_id, by_id):
            continue
        pid, new = groups.join(a.creator_id, b.creator_id)
        for cid in new:
            row = rows.get(cid) or PersonMember(
                org_id=org_id, creator_id=cid, person_id=pid, method="", confidence=0.0, decided_at=now
            )
            row.person_id, row.method, row.confidence = pid, found.method, found.confidence
            row.evidence, row.decided_at = found.evidence[:500], now
            rows[cid] = row
            session.add(row)
            linked += 1
    persons = len({m.person_id for m in rows.values()})
    return LinkRunOut(accounts_linked=linked, persons=persons, accounts_in_persons=len(rows))
