"""Text search over handles, names, bios and recent posts: what people type to start a search.

Candidates come from an index (SQLite: FTS5 with the trigram tokenizer; PostgreSQL: full-text search
plus pg_trgm similarity on handles and names), then a ranking people expect: an exact handle first,
then names (a misspelt name still close), then bios, tags and posts.
"""

from __future__ import annotations

import difflib
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

CANDIDATES = 500  # the index's best matches that get ranked; a page never needs more
NAME_CLOSE = 0.75  # difflib ratio above which a typed name is taken for a misspelling of the creator's


def text_row(payload: dict[str, Any]) -> tuple[str, str, str]:
    """(handles, name, body) of one payload, lower-case handles separated by spaces."""
    handles = " ".join(a["handle"].lower() for a in payload["accounts"])
    body = " ".join([payload.get("bio", ""), *payload.get("tags", []), *payload.get("recent_posts", [])])
    return handles, payload["name"], body


def store(session: Session, org_id: str, creator_id: str, payload: dict[str, Any]) -> None:
    """Replace one creator's text row (the ORM upsert path; bulk.py copies them)."""
    key = {"org": org_id, "cid": creator_id}
    session.execute(text("DELETE FROM creator_text WHERE org_id = :org AND creator_id = :cid"), key)
    handles, name, body = text_row(payload)
    session.execute(
        text(
            "INSERT INTO creator_text (org_id, creator_id, handles, name, body) VALUES (:org, :cid, :h, :n, :b)"
        ),
        {**key, "h": handles, "n": name, "b": body},
    )


def _fts5_query(q: str) -> str:
    """Any trigram of the query: a misspelt name still shares most of them (bm25 orders by how many)."""
    low = q.lower()
    grams = dict.fromkeys(low[i : i + 3] for i in range(len(low) - 2))
    return " OR ".join('"' + g.replace('"', '""') + '"' for g in grams)


SQLITE_FIND = text(
    "SELECT creator_id, handles, name, body FROM creator_text "
    "WHERE creator_text MATCH :match AND org_id = :org ORDER BY rank LIMIT :limit"
)
SQLITE_SHORT = text(
    "SELECT creator_id, handles, name, body FROM creator_text "
    "WHERE org_id = :org AND (handles LIKE :like OR name LIKE :like) LIMIT :limit"
)
PG_FIND = text(
    "SELECT creator_id, handles, name, body FROM creator_text WHERE org_id = :org AND ("
    "handles LIKE :like OR lower(name) LIKE :like "
    "OR to_tsvector('simple', name || ' ' || body) @@ plainto_tsquery('simple', :q)) LIMIT :limit"
)
# With pg_trgm: similar handles and names too (misspellings), through the trigram indexes. Asked only
# to fill up what the query above left: a LIMIT over both at once returned an arbitrary 500 of the
# thousands of look-alike handles (h1412_instagram ...) and could drop the exact one typed.
PG_SIMILAR = text(
    "SELECT creator_id, handles, name, body FROM creator_text WHERE org_id = :org AND ("
    "handles % :low OR lower(name) % :low) LIMIT :limit"
)


def _candidates(session: Session, org_id: str, q: str) -> list[Any]:
    low = q.lower()
    args = {"org": org_id, "q": q, "low": low, "like": f"%{low}%", "limit": CANDIDATES}
    if session.get_bind().dialect.name == "postgresql":
        found = list(session.execute(PG_FIND, args))
        trgm = session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
        if not trgm or len(found) >= CANDIDATES:
            return found
        seen = {row[0] for row in found}
        similar = session.execute(PG_SIMILAR, {**args, "limit": CANDIDATES + len(found)})
        return (found + [row for row in similar if row[0] not in seen])[:CANDIDATES]
    if len(low) < 3:  # shorter than a trigram: a plain scan of handles and names
        return list(session.execute(SQLITE_SHORT, args))
    return list(session.execute(SQLITE_FIND, {**args, "match": _fts5_query(q)}))


def relevance(q: str, handles: str, name: str, body: str) -> tuple[int, float]:
    """(tier, closeness): 3 exact handle, 2 name (or a close misspelling), 1 bio/tags/posts, 0 none."""
    low = q.lower().lstrip("@")
    words = low.split()
    closeness = difflib.SequenceMatcher(None, low, name.lower()).ratio()
    if low in handles.split():
        return 3, closeness
    if all(w in name.lower() for w in words) or closeness >= NAME_CLOSE:
        return 2, closeness
    if any(w in handles for w in words):
        return 2, closeness * 0.9
    if all(w in body.lower() for w in words):
        return 1, closeness
    return 0, closeness


def find(session: Session, org_id: str, q: str) -> list[tuple[str, float]]:
    """(creator id, score) of the creators matching the typed text, most relevant first. The score is
    2 * tier + closeness (closeness is within 0..1, so a higher tier always scores higher): one number,
    so a page's last hit makes a keyset cursor like the other sorts'."""
    ranked = []
    for cid, handles, name, body in _candidates(session, org_id, q.strip().lstrip("@")):
        tier, closeness = relevance(q.strip(), handles, name, body)
        if tier:
            ranked.append((-(2 * tier + closeness), cid))
    return [(cid, -negative) for negative, cid in sorted(ranked)]
