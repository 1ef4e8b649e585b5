"""Search pages with one hit per person: a person with several accounts is shown once, at the account of
theirs that comes first in the requested order among those that pass the filters (its lead).

Stateless, so keyset cursors keep working: a matching account is dropped from a page when another
matching account of the same person sorts before it (on this page or an earlier one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, tuple_
from sqlmodel import Session, col, select

from services.discovery import people
from services.discovery.models import Creator, PersonMember

Position = tuple[Any, str]  # (sort value, creator id)


def _ordered(rows: Sequence[Position], descending: bool) -> list[Position]:
    return sorted(rows, key=lambda r: (r[0], r[1]), reverse=descending)


def _after(key: Any, position: Position, descending: bool) -> ColumnElement[bool]:
    here = tuple_(key, col(Creator.creator_id))
    there = tuple_(position[0], position[1])
    return here < there if descending else here > there


def _leads(
    session: Session,
    org_id: str,
    key: Any,
    conds: list[ColumnElement[bool]],
    ids: list[str],
    descending: bool,
) -> set[str]:
    """The ids among `ids` that are not preceded, in sort order, by a matching account of their person."""
    person_of = people.person_of(session, org_id, ids)
    if not person_of:
        return set(ids)
    joined = and_(
        col(PersonMember.org_id) == col(Creator.org_id),
        col(PersonMember.creator_id) == col(Creator.creator_id),
    )
    stmt = (
        select(col(Creator.creator_id), key, col(PersonMember.person_id))
        .join(PersonMember, joined)
        .where(*conds, col(PersonMember.person_id).in_(set(person_of.values())))
    )
    matching: dict[str, list[Position]] = defaultdict(list)
    for cid, value, pid in session.exec(stmt):
        matching[pid].append((value, cid))
    first = {pid: _ordered(rows, descending)[0][1] for pid, rows in matching.items()}
    return {cid for cid in ids if cid not in person_of or first.get(person_of[cid]) == cid}


def keyset_page(
    session: Session,
    org_id: str,
    key: Any,
    conds: list[ColumnElement[bool]],
    descending: bool,
    limit: int,
    position: Position | None,
) -> tuple[list[Position], bool]:
    """One page of (sort value, creator id), one per person, and whether more follow."""
    order = (key.desc(), col(Creator.creator_id).desc()) if descending else (key, col(Creator.creator_id))
    page: list[Position] = []
    while True:
        stmt = select(key, col(Creator.creator_id)).where(*conds)
        if position is not None:
            stmt = stmt.where(_after(key, position, descending))
        batch = [(v, cid) for v, cid in session.exec(stmt.order_by(*order).limit(limit + 1))]
        leads = _leads(session, org_id, key, conds, [cid for _, cid in batch], descending)
        page.extend(row for row in batch if row[1] in leads)
        if len(page) > limit or len(batch) <= limit:
            return page[:limit], len(page) > limit
        position = batch[-1]
