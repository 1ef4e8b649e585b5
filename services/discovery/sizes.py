"""Follower-size filters (min, max, tiers), and the rule that a platform filter and a size filter are
met by the same account: a creator whose VK has 2k followers does not pass "VK, >= 100k" because their
YouTube has 300k."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, literal, literal_column, not_, or_, select, text
from sqlmodel import col

from services.discovery.models import SIZED_FLOOR, Creator
from services.discovery.schemas import SearchIn
from shared.vocabulary import PLATFORMS, TIERS

# Each account of a creator's payload (JSON), per dialect: (rows, platform, followers) as SQL. The payload
# is read from the creator's own row found again by primary key (`own`), not from the outer row: then the
# search's walk over a sort index reads no table row for the creators its included columns already drop
# (EXPLAIN ANALYZE at 100k, Instagram micro/mid beauty by engagement: 46k buffers -> an index-only walk).
ACCOUNTS = {
    "postgresql": ("creator AS own, json_array_elements(own.profile->'accounts') AS a", "a->>'platform'",
                   "(a->>'followers')::bigint"),
    "sqlite": ("creator AS own, json_each(own.profile, '$.accounts') AS a", "json_extract(a.value, '$.platform')",
               "json_extract(a.value, '$.followers')"),
}  # fmt: skip
OWN_ROW = "own.org_id = creator.org_id AND own.creator_id = creator.creator_id"


def tier_bounds(tier: str) -> tuple[int, int | None]:
    """[lower, upper) followers of a tier; 'nano' also takes accounts below 1k."""
    names = [t for t, _ in TIERS]
    i = names.index(tier)
    lower = 0 if i == 0 else TIERS[i][1]
    upper = TIERS[i + 1][1] if i + 1 < len(TIERS) else None
    return lower, upper


def size_conditions(q: SearchIn, followers: Any = None) -> list[ColumnElement[bool]]:
    """The size filters on a follower count: the creator's largest account unless another is given."""
    followers = col(Creator.followers) if followers is None else followers
    out: list[ColumnElement[bool]] = []
    if q.min_followers is not None:
        out.append(followers >= q.min_followers)
    if q.max_followers is not None:
        out.append(followers <= q.max_followers)
    if q.tiers:
        ranges = []
        for lower, upper in map(tier_bounds, q.tiers):
            cond = followers >= lower
            ranges.append(cond if upper is None else and_(cond, followers < upper))
        out.append(or_(*ranges))
    return out


def same_account_condition(q: SearchIn, dialect: str) -> ColumnElement[bool] | None:
    """Platform and size filters met by ONE account, or None when the query lacks either. A creator
    with one account passes on the row's own columns; only those with several read their accounts
    (after every cheaper filter has passed)."""
    if not q.platforms or not size_conditions(q):
        return None
    rows, platform, followers = ACCOUNTS.get(dialect, ACCOUNTS["sqlite"])
    on_account = size_conditions(q, literal_column(followers))
    one = select(literal(1)).select_from(text(rows))
    one = one.where(text(OWN_ROW), literal_column(platform).in_([p for p in q.platforms if p in PLATFORMS]))
    one = one.where(*on_account)
    single = col(Creator.platform_mask).op("&")(col(Creator.platform_mask) - 1) == 0
    on_row = and_(single, *size_conditions(q))
    # Accounts are read only where the row's own columns did not decide: the same truth value, and a
    # condition on the outer row keeps PostgreSQL from turning the EXISTS into a hashed set of every
    # creator's accounts built before the walk starts (a small catalogue's plan: at 20k, Instagram
    # micro/mid beauty by engagement read all 20k payloads, 146 ms; per creator walked, 9.5 ms).
    return or_(on_row, one.where(not_(on_row)).exists())


def size_filters(q: SearchIn, dialect: str) -> list[ColumnElement[bool]]:
    """Every size condition of a query. With a platform, sizes are the same-account rule's; the largest
    account reaching the minimum (or the smallest tier's floor) stays a cheap necessary check the sort
    indexes can use."""
    same_account = same_account_condition(q, dialect)
    floors = [q.min_followers] if q.min_followers is not None else []
    floors += [min(tier_bounds(t)[0] for t in q.tiers)] if q.tiers else []
    sized = [sized_floor()] if floors and max(floors) >= SIZED_FLOOR else []
    if same_account is None:
        return [*size_conditions(q), *sized]
    return [*(col(Creator.followers) >= f for f in floors if f), same_account, *sized]


def sized_floor() -> ColumnElement[bool]:
    """`followers >= SIZED_FLOOR` with the number written into the SQL: implied by the query's own floor,
    but only a constant lets PostgreSQL use the partial index on it (ix_creator_org_engagement_sized) in
    a generic plan too (psycopg prepares a statement run five times; its bound floor is then a $n)."""
    return col(Creator.followers) >= literal_column(str(SIZED_FLOOR))
