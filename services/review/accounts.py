"""Web sign-in: scrypt password hashes and an HMAC-signed session cookie (no server-side session store)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

# scrypt cost (n=2**14, r=8, p=1): ~16 MB and tens of ms per check, the usual interactive-login setting.
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(got.hex(), digest)


class SessionSigner:
    """`org|reviewer|expiry|nonce` plus an HMAC-SHA256 tag, base64url encoded."""

    def __init__(self, secret: str, max_age_s: int) -> None:
        self.key = (secret or secrets.token_hex(32)).encode()
        self.max_age_s = max_age_s

    def _tag(self, body: bytes) -> str:
        return hmac.new(self.key, body, hashlib.sha256).hexdigest()

    def sign(self, org_id: str, reviewer_id: str) -> str:
        body = f"{org_id}|{reviewer_id}|{int(time.time()) + self.max_age_s}|{secrets.token_hex(8)}"
        raw = f"{body}|{self._tag(body.encode())}".encode()
        return base64.urlsafe_b64encode(raw).decode()

    def read(self, cookie: str | None) -> tuple[str, str] | None:
        """(org_id, reviewer_id) of a valid, unexpired cookie; None otherwise."""
        if not cookie:
            return None
        try:
            org_id, reviewer_id, expiry, nonce, tag = base64.urlsafe_b64decode(cookie).decode().split("|")
        except (ValueError, UnicodeDecodeError):
            return None
        body = f"{org_id}|{reviewer_id}|{expiry}|{nonce}".encode()
        if not hmac.compare_digest(tag, self._tag(body)) or int(expiry) < time.time():
            return None
        return org_id, reviewer_id

    def csrf(self, cookie: str) -> str:
        """A form token bound to the session cookie, so another site cannot post as the reviewer."""
        return self._tag(b"csrf|" + cookie.encode())


# Checked against when the account does not exist, so a wrong name costs as much as a wrong password.
DUMMY_HASH = hash_password("not-a-real-password")
