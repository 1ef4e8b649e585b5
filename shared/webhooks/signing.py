"""Signatures per the Standard Webhooks specification.

`webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` values, one
per active secret, so a receiver accepts either secret while a rotation is under way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300  # the spec's recommended five minutes


class WebhookVerificationError(ValueError):
    """Why an inbound webhook was refused; the message is safe to return to the sender."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw + "==")  # tolerate unpadded secrets, as the reference library does
    except ValueError as exc:
        raise ValueError("webhook secret is not base64 after the whsec_ prefix") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def sign_headers(
    secrets_: Iterable[str], msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers of one delivery, signed with every active secret."""
    ts = int(time.time()) if timestamp is None else timestamp
    sigs = " ".join(signature(s, msg_id, ts, body) for s in secrets_)
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sigs}


def verify(
    secrets_: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: int | None = None,
) -> str:
    """Check headers and body against any of the secrets; returns the `webhook-id` or raises."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, ts_raw, sigs = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    if not (msg_id and ts_raw and sigs):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        ts = int(ts_raw)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from exc
    current = int(time.time()) if now is None else now
    if abs(current - ts) > tolerance_s:
        raise WebhookVerificationError(f"webhook-timestamp is more than {tolerance_s} s from now")
    offered = [s.split(",", 1)[1] for s in sigs.split() if s.startswith("v1,")]
    for secret in secrets_:
        expected = signature(secret, msg_id, ts, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected, o) for o in offered):
            return msg_id
    raise WebhookVerificationError("no matching signature")
