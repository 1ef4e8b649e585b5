"""One person, many accounts: the persons behind catalogue creators, as people link and unlink them,
and the views search, creator detail and shortlists show (one creator with several accounts).

A person's link or unlink is a judgement recorded as theirs; the linker (linking.py) never undoes it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlmodel import Session, col, delete, select

from services.discovery.linking import person_id_for
from services.discovery.models import Creator, PersonMember, PersonSplit
from services.discovery.schemas import LinkedAccount, PersonOut
from shared.errors import NotFound


def _existing_ids(session: Session, org_id: str, ids: list[str]) -> set[str]:
    stmt = select(col(Creator.creator_id)).where(Creator.org_id == org_id, col(Creator.creator_id).in_(ids))
    return set(session.exec(stmt))


def link(session: Session, org_id: str, creator_ids: list[str], actor: str) -> PersonOut:
    """A person's judgement: these creators are one person (their persons merge; splits between them go)."""
    missing = sorted(set(creator_ids) - _existing_ids(session, org_id, creator_ids))
    if missing:
        raise NotFound(f"no creator {', '.join(missing)}", field="creator_ids")
    members = {m.creator_id: m for m in _members_of_persons(session, org_id, creator_ids)}
    everyone = set(creator_ids) | set(members)
    pid = next((members[c].person_id for c in creator_ids if c in members), person_id_for(everyone))
    now = datetime.now(UTC)
    for cid in sorted(everyone):
        row = members.get(cid) or PersonMember(
            org_id=org_id, creator_id=cid, person_id=pid, method="", confidence=0.0, decided_at=now
        )
        row.person_id = pid
        if cid in creator_ids:
            row.method, row.confidence, row.decided_by, row.decided_at = "manual", 1.0, actor, now
            row.evidence = "linked by a person"
        session.add(row)
    session.execute(
        delete(PersonSplit).where(
            col(PersonSplit.org_id) == org_id,
            col(PersonSplit.creator_id).in_(everyone),
            col(PersonSplit.other_id).in_(everyone),
        )
    )
    session.flush()
    return person(session, org_id, pid)


def unlink(session: Session, org_id: str, person_id: str, creator_id: str, actor: str) -> PersonOut:
    """A person's judgement: this account is not that person. Recorded as a split from every remaining
    account, so the linker never joins them again; a person left with one account dissolves."""
    row = session.get(PersonMember, (org_id, creator_id))
    if row is None or row.person_id != person_id:
        raise NotFound(f"{creator_id!r} is not an account of person {person_id!r}", field="creator_id")
    rest = [m for m in _members(session, org_id, person_id) if m.creator_id != creator_id]
    now = datetime.now(UTC)
    for other in rest:
        session.merge(
            PersonSplit(
                org_id=org_id,
                creator_id=creator_id,
                other_id=other.creator_id,
                decided_by=actor,
                decided_at=now,
            )
        )
    session.delete(row)
    if len(rest) == 1:
        session.delete(rest[0])
    session.flush()
    return person(session, org_id, person_id, required=False)


def _members(session: Session, org_id: str, person_id: str) -> list[PersonMember]:
    stmt = select(PersonMember).where(PersonMember.org_id == org_id, PersonMember.person_id == person_id)
    return list(session.exec(stmt.order_by(col(PersonMember.creator_id))))


def _members_of_persons(session: Session, org_id: str, creator_ids: Iterable[str]) -> list[PersonMember]:
    """Every member of the persons the given creators belong to."""
    ids = list(creator_ids)
    persons = select(col(PersonMember.person_id)).where(
        PersonMember.org_id == org_id, col(PersonMember.creator_id).in_(ids)
    )
    stmt = select(PersonMember).where(PersonMember.org_id == org_id, col(PersonMember.person_id).in_(persons))
    return list(session.exec(stmt))


def person_of(session: Session, org_id: str, creator_ids: list[str]) -> dict[str, str]:
    """creator id -> person id, for the given creators that belong to a person."""
    if not creator_ids:
        return {}
    stmt = select(col(PersonMember.creator_id), col(PersonMember.person_id)).where(
        PersonMember.org_id == org_id, col(PersonMember.creator_id).in_(creator_ids)
    )
    return dict(session.exec(stmt).all())


def accounts_of(session: Session, org_id: str, creator_ids: list[str]) -> dict[str, PersonOut]:
    """The person of each given creator that belongs to one, with every account of that person."""
    members = _members_of_persons(session, org_id, creator_ids)
    if not members:
        return {}
    by_person: dict[str, list[PersonMember]] = defaultdict(list)
    for m in members:
        by_person[m.person_id].append(m)
    profiles = _profiles(session, org_id, [m.creator_id for m in members])
    out = {}
    for pid, rows in by_person.items():
        view = _person_out(pid, rows, profiles)
        for m in rows:
            out[m.creator_id] = view
    return out


def _profiles(session: Session, org_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    stmt = select(col(Creator.creator_id), col(Creator.profile)).where(
        Creator.org_id == org_id, col(Creator.creator_id).in_(ids)
    )
    return dict(session.exec(stmt).all())


def _person_out(pid: str, rows: list[PersonMember], profiles: dict[str, dict[str, Any]]) -> PersonOut:
    accounts = []
    for m in sorted(rows, key=lambda r: r.creator_id):
        for a in profiles.get(m.creator_id, {}).get("accounts", []):
            accounts.append(
                LinkedAccount(
                    creator_id=m.creator_id,
                    platform=a["platform"],
                    handle=a["handle"],
                    followers=a["followers"],
                    method=m.method,
                    confidence=m.confidence,
                    evidence=m.evidence,
                    decided_by=m.decided_by or None,
                )
            )
    accounts.sort(key=lambda a: -a.followers)
    return PersonOut(person_id=pid, accounts=accounts)


def person(session: Session, org_id: str, person_id: str, required: bool = True) -> PersonOut:
    rows = _members(session, org_id, person_id)
    if not rows and required:
        raise NotFound(f"no person {person_id!r}", field="person_id")
    return _person_out(person_id, rows, _profiles(session, org_id, [m.creator_id for m in rows]))


T = TypeVar("T")


def one_per_person(session: Session, org_id: str, ranked: list[T], creator_id: Callable[[T], str]) -> list[T]:
    """The best-ranked account of each person (a shortlist names a person once), order kept."""
    persons = person_of(session, org_id, [creator_id(x) for x in ranked])
    seen: set[str] = set()
    out = []
    for x in ranked:
        who = persons.get(creator_id(x), creator_id(x))
        if who not in seen:
            seen.add(who)
            out.append(x)
    return out
