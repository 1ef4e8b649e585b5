"""Creator search: filters ANDed across and ORed within, sorting, cursor pagination, explicit confidence.

Every filter reads the denormalised `creator` row (bit masks for platforms, categories and languages;
scalar columns for size, engagement, price, fraud, demographics, history) except the per-market ones,
which are `creator_id IN (...)` sub-queries on the covering indexes of `creator_market`. The same SQL
runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import math
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, func, literal_column, or_, union_all
from sqlmodel import Session, col, select

from services.discovery import grouping, people, sizes, textsearch
from services.discovery.catalog import mask
from services.discovery.models import ENGAGEMENT_INDEXED_FROM, NULL_SORT_LAST, Creator, CreatorMarket
from services.discovery.schemas import EngagementFilter, MarketFigure, SearchHit, SearchIn, SearchOut
from shared.errors import Invalid
from shared.input_limits import column_problem
from shared.vocabulary import CATEGORIES, LANGUAGES, PLATFORMS, follower_tier

THIN_AUDIENCE = 0.5  # below this share of the audience with a known country, market figures are thin
DENSE_AT = 3000  # market rows above which a market filter is checked per creator (see engagement_condition)
INDEXED_SORTS = (
    "followers",
    "engagement_rate",
    "growth",
    "price_usd",
)  # sorts with an (org_id, column, creator_id) index to walk
# PostgreSQL also walks fraud risk (ix_creator_org_fraud, migration 0014; key: models.NULL_SORT_LAST).
POSTGRES_INDEXED_SORTS = (*INDEXED_SORTS, "fraud_risk")


def _market_rows(org_id: str, markets: list[str]) -> Any:
    """The creator ids of market rows in any of `markets`, to narrow further."""
    return select(CreatorMarket.creator_id).where(
        CreatorMarket.org_id == org_id, col(CreatorMarket.market).in_(markets)
    )


def engagement_rows(org_id: str, f: EngagementFilter) -> Any:
    """creator_market rows meeting the engagement threshold in one of the given markets.

    A threshold of ENGAGEMENT_INDEXED_FROM or more also states the partial engagement index's own
    condition with the number written into the SQL (see sizes.sized_floor: a generic plan cannot prove
    that a bound threshold implies it); a lower one is met by most rows of its markets and is read from
    the share index's market ranges, which include engagement."""
    rows = _market_rows(org_id, f.markets).where(CreatorMarket.engagement_rate >= f.min_rate)
    if f.min_rate >= ENGAGEMENT_INDEXED_FROM:
        rows = rows.where(col(CreatorMarket.engagement_rate) >= literal_column(str(ENGAGEMENT_INDEXED_FROM)))
    return rows


def audience_rows(org_id: str, markets: list[str], min_share: float) -> Any:
    """Market rows with at least `min_share` of the audience, or the top audience country a source
    names without a share (its hits say so in their confidence notes).

    Two index ranges, one per kind, rather than one scan with `share >= x OR NOT share_known`: that OR is
    no range of ix_creator_market_share, so the scan read every row of the market from the smallest share
    up (EXPLAIN ANALYZE at 1M, US >= 0.3: 359k index rows filtered out, 63 ms for 3,000 matches; as two
    ranges, 1.3 ms). Unmeasured rows are stored at share 0 (catalog.market_rows), which is their range."""
    measured = _market_rows(org_id, markets).where(col(CreatorMarket.audience_share) >= min_share)
    named = _market_rows(org_id, markets).where(
        col(CreatorMarket.audience_share) == 0.0, col(CreatorMarket.share_known).is_(False)
    )
    return union_all(measured, named)


def audience_row_matches(org_id: str, markets: list[str], min_share: float) -> Any:
    """audience_rows as one condition, for the per-creator form (a primary-key probe, no range to use)."""
    share = col(CreatorMarket.audience_share) >= min_share
    return _market_rows(org_id, markets).where(or_(share, col(CreatorMarket.share_known).is_(False)))


def _correlated(rows: Any) -> Any:
    return rows.where(
        col(CreatorMarket.org_id) == col(Creator.org_id),
        col(CreatorMarket.creator_id) == col(Creator.creator_id),
    )


def engagement_condition(org_id: str, f: EngagementFilter, per_creator: bool) -> ColumnElement[bool]:
    """Engagement >= min_rate in at least min_markets of the markets, in one of two equivalent forms.

    As a set (`creator_id IN (... GROUP BY ... HAVING count >= N)`) the cost is the number of market rows
    above the threshold; per creator (a correlated count on the primary key) it is a few index probes per
    creator visited, which wins when matches are dense and the sort order has an index to walk.
    """
    rows = engagement_rows(org_id, f)
    if per_creator:
        count = _correlated(rows.with_only_columns(func.count())).scalar_subquery()
        # Necessary for a match and read from the walked index: most creators skip the probes.
        return and_(col(Creator.max_market_er) >= f.min_rate, count >= f.min_markets)
    grouped = rows.group_by(col(CreatorMarket.creator_id)).having(func.count() >= f.min_markets)
    return col(Creator.creator_id).in_(grouped)


def audience_condition(org_id: str, q: SearchIn, per_creator: bool) -> ColumnElement[bool]:
    if per_creator:
        return _correlated(audience_row_matches(org_id, q.audience_markets, q.min_audience_share)).exists()
    return col(Creator.creator_id).in_(audience_rows(org_id, q.audience_markets, q.min_audience_share))


def _mask_conditions(q: SearchIn) -> list[ColumnElement[bool]]:
    pairs = (
        (Creator.platform_mask, q.platforms, PLATFORMS),
        (Creator.category_mask, q.categories, CATEGORIES),
        (Creator.language_mask, q.languages, LANGUAGES),
    )
    return [col(c).op("&")(mask(list(v), vocab)) != 0 for c, v, vocab in pairs if v]


def _audience_conditions(org_id: str, q: SearchIn, per_creator: bool) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if q.audience_markets:
        out.append(audience_condition(org_id, q, per_creator))
    if q.engagement is not None:
        out.append(engagement_condition(org_id, q.engagement, per_creator))
    if q.min_female_share is not None:
        out.append(col(Creator.female_share) >= q.min_female_share)
    if q.max_female_share is not None:
        out.append(col(Creator.female_share) <= q.max_female_share)
    if q.age_bands:
        shares = [func.coalesce(col(Creator.age_shares)[b].as_float(), 0.0) for b in q.age_bands]
        out.append(sum(shares[1:], shares[0]) >= q.min_age_share)
    return out


def _trust_conditions(q: SearchIn) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if q.max_fraud_risk is not None:
        within = col(Creator.fraud_risk) <= q.max_fraud_risk
        out.append(or_(within, col(Creator.fraud_risk).is_(None)) if q.include_unscored else within)
    elif not q.include_unscored:
        out.append(col(Creator.fraud_risk).is_not(None))
    if q.min_price_usd is not None:
        out.append(col(Creator.price_usd) >= q.min_price_usd)
    if q.max_price_usd is not None:
        out.append(col(Creator.price_usd) <= q.max_price_usd)
    if q.worked_with == "yes":
        out.append(col(Creator.past_campaigns) > 0)
    elif q.worked_with == "no":
        out.append(col(Creator.past_campaigns) == 0)
    if q.min_outcome_vs_forecast is not None:
        out.append(col(Creator.past_outcome) >= q.min_outcome_vs_forecast)
    return out


def conditions(
    org_id: str, q: SearchIn, per_creator: bool = False, dialect: str = "sqlite"
) -> list[ColumnElement[bool]]:
    """Every filter of the query as SQL conditions, to be ANDed."""
    return [
        col(Creator.org_id) == org_id,
        *sizes.size_filters(q, dialect),
        *_mask_conditions(q),
        *_audience_conditions(org_id, q, per_creator),
        *_trust_conditions(q),
    ]


def market_filters_are_dense(session: Session, org_id: str, q: SearchIn, cap: int) -> bool:
    """True when every per-market filter matches at least `cap` market rows (counted up to the cap only,
    so the probe costs at most `cap` index entries): then walking creators in sort order and checking
    each is cheaper than building the whole matching set."""
    probes = []
    if q.engagement is not None:
        probes.append(engagement_rows(org_id, q.engagement))
    if q.audience_markets:
        probes.append(audience_rows(org_id, q.audience_markets, q.min_audience_share))
    postgres = session.get_bind().dialect.name == "postgresql"
    if not probes or q.sort not in (POSTGRES_INDEXED_SORTS if postgres else INDEXED_SORTS):
        return False
    for rows in probes:
        found = session.exec(select(func.count()).select_from(rows.limit(cap).subquery())).one()
        if found < cap:
            return False
    return True


def sort_expression(key: str) -> Any:
    """The sort column. Unscored fraud risk sorts after every score (a sentinel keeps keyset pagination
    total), as ix_creator_org_fraud's expression, the sentinel a literal as there; a price sort lists
    creators that have a price estimate, so that it can walk its index."""
    column = col(getattr(Creator, key))
    if key == "fraud_risk":
        return func.coalesce(column, literal_column(NULL_SORT_LAST))
    return column


def encode_cursor(value: Any, creator_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([value, creator_id])).decode()


def decode_cursor(cursor: str, sort: str | None = None) -> tuple[Any, str]:
    """The sort key and creator id a cursor holds; `sort` names the key's column (None: a relevance score)."""
    try:
        value, creator_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise Invalid("cursor is not one this service issued", field="cursor") from exc
    if not isinstance(creator_id, str) or not isinstance(value, (int, float)):
        raise Invalid("cursor is not one this service issued", field="cursor")
    columns = Creator.__table__.c  # type: ignore[attr-defined]
    # A forged cursor must not reach the database with a key its column can't hold (2^63, 1e400).
    key_problem = (
        column_problem(value, columns[sort]) if sort else (None if math.isfinite(value) else "not finite")
    )
    if reason := key_problem or column_problem(creator_id, columns.creator_id):
        raise Invalid(f"cursor is not one this service issued ({reason})", field="cursor")
    return value, creator_id


def search(session: Session, org_id: str, q: SearchIn, dense_at: int = DENSE_AT) -> SearchOut:
    """One page of matching creators in the requested order (one hit per person), and the next cursor.

    Two steps: the page's ids and sort keys (which PostgreSQL can answer from the sort index and its
    included filter columns alone), then the full rows of just those creators.
    """
    if q.text:
        return text_search(session, org_id, q)
    key = sort_expression(q.sort)
    per_creator = market_filters_are_dense(session, org_id, q, dense_at)
    conds = conditions(org_id, q, per_creator, session.get_bind().dialect.name)
    if q.sort == "price_usd":
        conds.append(col(Creator.price_usd).is_not(None))
    position = decode_cursor(q.cursor, q.sort) if q.cursor else None
    page, more = grouping.keyset_page(session, org_id, key, conds, q.descending, q.limit, position)
    next_cursor = encode_cursor(*page[-1]) if more else None
    return _out(session, org_id, q, [cid for _, cid in page], next_cursor)


def _out(session: Session, org_id: str, q: SearchIn, ids: list[str], next_cursor: str | None) -> SearchOut:
    rows = _rows(session, org_id, ids)
    persons = people.accounts_of(session, org_id, ids)
    hits = [hit(rows[cid], q).model_copy(update={"person": persons.get(cid)}) for cid in ids]
    return SearchOut(hits=hits, next_cursor=next_cursor, sort=q.sort, descending=q.descending)


def _rows(session: Session, org_id: str, ids: list[str]) -> dict[str, Creator]:
    stmt = select(Creator).where(Creator.org_id == org_id, col(Creator.creator_id).in_(ids))
    return {c.creator_id: c for c in session.exec(stmt)}


def text_search(session: Session, org_id: str, q: SearchIn) -> SearchOut:
    """The typed text's matches that pass every other filter, most relevant first, one hit per person
    (at its most relevant account); `next_cursor` pages on by (score, creator id) like the other sorts."""
    assert q.text is not None
    ranked = textsearch.find(session, org_id, q.text)
    conds = conditions(org_id, q, dialect=session.get_bind().dialect.name)
    stmt = select(col(Creator.creator_id)).where(*conds, col(Creator.creator_id).in_([c for c, _ in ranked]))
    passing = set(session.exec(stmt))
    person_of = people.person_of(session, org_id, list(passing))
    shown: set[str] = set()
    leads = []
    for cid, score in ranked:
        if cid in passing and person_of.get(cid, cid) not in shown:
            shown.add(person_of.get(cid, cid))
            leads.append((-score, cid))
    if q.cursor:
        score, after = decode_cursor(q.cursor)
        leads = [lead for lead in leads if lead > (-score, after)]
    page = leads[: q.limit]
    next_cursor = encode_cursor(-page[-1][0], page[-1][1]) if len(leads) > q.limit else None
    return _out(session, org_id, q, [cid for _, cid in page], next_cursor)


def data_notes(
    audience_known: float, fraud_risk: float | None, top_market: str = "", measured_on: date | None = None
) -> list[str]:
    """Why a creator's own figures are thin, whatever was asked: what a shortlist carries to review,
    where a finalist with any such note always goes to people."""
    notes = []
    if top_market and audience_known == 0:
        when = f" (measured {measured_on.isoformat()})" if measured_on else ""
        notes.append(f"audience shares not measured: the source names {top_market} the top country{when}")
    elif audience_known < THIN_AUDIENCE:
        notes.append(f"audience country known for only {audience_known:.0%} of followers")
    if fraud_risk is None:
        notes.append("not yet scored for fraud")
    return notes


def confidence_notes(row: Creator, q: SearchIn) -> list[str]:
    """Why a hit's figures may be thin; an empty list means high confidence."""
    top = row.profile.get("top_audience_market", "")
    notes = data_notes(row.audience_known, row.fraud_risk, top, row.measured_on)
    if (q.age_bands or q.min_female_share is not None) and not row.age_shares and row.female_share is None:
        notes.append("no audience age/gender data")
    if row.price_usd is None:
        notes.append("no price estimate")
    return notes


def hit(row: Creator, q: SearchIn) -> SearchHit:
    profile = row.profile
    main = max(profile["accounts"], key=lambda a: a["followers"])
    notes = confidence_notes(row, q)
    asked = set(q.audience_markets) | set(q.engagement.markets if q.engagement else [])
    # The markets the query asked about first (the figures that made it a hit), then the largest.
    audience = sorted(profile["audience"], key=lambda m: (m["market"] not in asked, -m["audience_share"]))
    audience = audience[: max(6, len(asked))]
    return SearchHit(
        creator_id=row.creator_id,
        name=row.name,
        home_market=row.home_market,
        platforms=[a["platform"] for a in profile["accounts"]],
        followers=row.followers,
        tier=follower_tier(row.followers),
        engagement_rate=row.engagement_rate,
        engagement_basis=main.get("engagement_basis", "per_follower"),
        categories=row.categories,
        languages=row.languages,
        price_usd=row.price_usd,
        growth=row.growth,
        fraud_risk=row.fraud_risk,
        fraud_level=row.fraud_level,
        past_campaigns=row.past_campaigns,
        past_outcome=row.past_outcome,
        audience=[MarketFigure.model_validate(m) for m in audience],
        confidence="low" if notes else "high",
        confidence_notes=notes,
        data_as_of=as_of(row.measured_on, row.updated_at),
        top_audience_market=profile.get("top_audience_market", ""),
        tags=profile.get("tags", []),
    )


def as_of(measured_on: date | None, updated_at: datetime) -> datetime:
    """Freshness: when the source measured the figures, else when they reached us."""
    if measured_on is None:
        return updated_at
    return datetime(measured_on.year, measured_on.month, measured_on.day, tzinfo=UTC)
