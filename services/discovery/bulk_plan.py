"""Which creators of a bulk batch to write: the step the PostgreSQL (bulk.py) and SQLite (bulk_sqlite.py)
upserts share."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter

from services.discovery.catalog import is_older, payload_json
from services.discovery.schemas import BulkResult, CreatorIn

# One dump of a batch gives the same dicts as catalog.payload per creator, a little cheaper.
CREATORS = TypeAdapter(list[CreatorIn])

Stored = dict[
    str, tuple[str, float | None, date | None]
]  # creator id -> content hash, fraud risk, measured_on


def payloads_of(creators: list[CreatorIn]) -> dict[str, dict[str, Any]]:
    """The batch's JSON-mode payloads (catalog.payload's dicts, from one dump of the list) by creator id;
    a repeated id: the last wins."""
    return {p["creator_id"]: p for p in CREATORS.dump_python(creators)}


@dataclass(frozen=True)
class Plan:
    """Which payloads of a batch to write: changed or new ones, unless measured before the stored one."""

    profiles: dict[str, bytes]  # creator id -> the sorted-key JSON the hash is taken over (stored as profile)
    digests: dict[str, str]
    changed: list[str]
    older: set[str]

    @classmethod
    def of(cls, payloads: dict[str, dict[str, Any]], existing: Stored) -> Plan:
        profiles = {cid: payload_json(p) for cid, p in payloads.items()}
        digests = {cid: hashlib.sha256(js).hexdigest() for cid, js in profiles.items()}
        changed = [cid for cid, d in digests.items() if cid not in existing or existing[cid][0] != d]
        # An older measurement never replaces a newer one: such creators are left as stored.
        older = {c for c in changed if c in existing and is_older(payloads[c]["measured_on"], existing[c][2])}
        return cls(profiles, digests, [c for c in changed if c not in older], older)

    def result(self, received: int, created: int) -> BulkResult:
        changed, older = len(self.changed), len(self.older)
        return BulkResult(received=received, created=created, updated=changed - created,
                          unchanged=received - changed - older, older=older)  # fmt: skip


def event_ids(now: datetime, n: int) -> list[bytes]:
    """`n` time-ordered UUIDs (the UUIDv7 layout: 48-bit Unix milliseconds, version 7, variant, 74 random
    bits), as text.

    The outbox's unique index on event_id gains one entry per event: random (v4) ids land on random leaf
    pages of an index that outgrows the buffer cache at a 1M-creator catalogue, time-ordered ones on its
    rightmost pages. Consumers only need the ids to be unique, which the 74 random bits see to."""
    prefix = (int(now.timestamp() * 1000) << 80) | (7 << 76) | (2 << 62)
    noise = os.urandom(10 * n)  # one system call for the batch
    out = []
    for i in range(0, 10 * n, 10):
        rand = int.from_bytes(noise[i : i + 10]) >> 6  # 74 bits: 12 after the version, 62 after the variant
        h = f"{prefix | ((rand >> 62) << 64) | (rand & _LOW62):032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".encode())
    return out


_LOW62 = (1 << 62) - 1
