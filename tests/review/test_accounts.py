"""Web sign-in: password hashes and signed session cookies."""

from __future__ import annotations

import base64

from services.review.accounts import SessionSigner, check_password, hash_password


def test_password_hash_checks_the_right_password_only() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert check_password("correct horse", stored)
    assert not check_password("wrong horse", stored)
    assert not check_password("correct horse", "garbage")


def test_session_cookie_round_trips_and_rejects_tampering() -> None:
    signer = SessionSigner("k" * 32, max_age_s=60)
    cookie = signer.sign("acme", "ann@acme")
    assert signer.read(cookie) == ("acme", "ann@acme")
    forged = base64.urlsafe_b64encode(
        base64.urlsafe_b64decode(cookie).replace(b"ann@acme", b"max@acme")
    ).decode()
    assert signer.read(forged) is None
    assert SessionSigner("other-key", 60).read(cookie) is None
    assert signer.read("not base64!") is None and signer.read(None) is None


def test_session_cookie_expires() -> None:
    signer = SessionSigner("k", max_age_s=-1)
    assert signer.read(signer.sign("acme", "ann")) is None


def test_csrf_token_is_bound_to_the_session() -> None:
    signer = SessionSigner("k", 60)
    a, b = signer.sign("acme", "ann"), signer.sign("acme", "ann")
    assert signer.csrf(a) != signer.csrf(b)
