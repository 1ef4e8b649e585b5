"""Web sign-in: scrypt password hashes and CSRF tokens bound to the session cookie (sessions: signin.py)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

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
    """HMAC-SHA256 under the session secret: form tokens bound to one session cookie."""

    def __init__(self, secret: str) -> None:
        self.key = (secret or secrets.token_hex(32)).encode()

    def _tag(self, body: bytes) -> str:
        return hmac.new(self.key, body, hashlib.sha256).hexdigest()

    def csrf(self, cookie: str) -> str:
        """A form token bound to the session cookie, so another site cannot post as the reviewer."""
        return self._tag(b"csrf|" + cookie.encode())


# Checked against when the account does not exist, so a wrong name costs as much as a wrong password.
DUMMY_HASH = hash_password("not-a-real-password")
