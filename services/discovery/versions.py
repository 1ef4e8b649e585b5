"""Conflicting figures from two sources: both are kept with their dates, and the creator says which is shown.

The catalogue row shows one version (the newest measured: catalog.is_older); when a payload arrives
that differs from the stored one, both go to `creator_version`, whichever wins, so the losing source's
figures and date are never lost. A first ingest has nothing to conflict with and costs one lookup.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from services.discovery.catalog import content_hash, payload
from services.discovery.models import Creator, CreatorVersion
from services.discovery.schemas import CreatorIn, FigureVersion


def keep(
    session: Session, org_id: str, creators: list[CreatorIn], stored: dict[str, str] | None = None
) -> int:
    """Store the stored and the incoming version of every creator whose incoming figures differ (at most
    three queries per batch, whatever its size); returns how many creators had a conflict. `stored`: the
    content hashes of the batch's stored creators, when the caller has read them already."""
    if stored is None:
        ids = [c.creator_id for c in creators]
        stmt = select(col(Creator.creator_id), col(Creator.content_hash)).where(
            Creator.org_id == org_id, col(Creator.creator_id).in_(ids)
        )
        stored = dict(session.exec(stmt).all())
    incoming = {c.creator_id: (c, content_hash(c)) for c in creators if c.creator_id in stored}
    differ = [cid for cid, (_, digest) in incoming.items() if digest != stored[cid]]
    if not differ:
        return 0
    now = datetime.now(UTC)
    rows = session.exec(select(Creator).where(Creator.org_id == org_id, col(Creator.creator_id).in_(differ)))
    versions = [_version(org_id, r.creator_id, r.content_hash, r.measured_on, r.updated_at, r.profile)
                for r in rows]  # fmt: skip
    for cid in differ:
        item, digest = incoming[cid]
        versions.append(_version(org_id, cid, digest, item.measured_on, now, payload(item)))
    kept = select(col(CreatorVersion.creator_id), col(CreatorVersion.content_hash)).where(
        CreatorVersion.org_id == org_id, col(CreatorVersion.creator_id).in_(differ)
    )
    have = set(session.exec(kept).all())
    for v in versions:
        if (v.creator_id, v.content_hash) not in have:  # the same figures sent again are kept once
            have.add((v.creator_id, v.content_hash))
            session.add(v)
    return len(differ)


def _version(
    org_id: str, creator_id: str, digest: str, measured_on: date | None, received_at: datetime, data: Any
) -> CreatorVersion:
    return CreatorVersion(org_id=org_id, creator_id=creator_id, content_hash=digest, measured_on=measured_on,
                          received_at=received_at, payload=data)  # fmt: skip


def _note(v: CreatorVersion, shown: CreatorVersion | None) -> str:
    when = v.measured_on.isoformat() if v.measured_on else "undated"
    if shown is None or v.content_hash == shown.content_hash:
        return f"shown: the newest measurement ({when})"
    if v.measured_on is None and shown.measured_on is not None:
        return "kept, not shown: undated, and undated figures never replace dated ones"
    shown_when = shown.measured_on.isoformat() if shown.measured_on else "undated"
    return f"kept, not shown: measured {when}; the figures shown were measured {shown_when}"


def listed(session: Session, org_id: str, row: Creator) -> list[FigureVersion]:
    """Every kept version of a creator, newest measured first (undated last), saying which is shown."""
    stmt = select(CreatorVersion).where(
        CreatorVersion.org_id == org_id, CreatorVersion.creator_id == row.creator_id
    )
    kept = sorted(session.exec(stmt), key=lambda v: (v.measured_on or date.min, v.received_at), reverse=True)
    shown = next((v for v in kept if v.content_hash == row.content_hash), None)
    return [
        FigureVersion(
            measured_on=v.measured_on,
            received_at=v.received_at,
            followers={a["platform"]: a["followers"] for a in v.payload["accounts"]},
            shown=v.content_hash == row.content_hash,
            note=_note(v, shown),
        )
        for v in kept
    ]
