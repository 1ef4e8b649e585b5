"""Web sign-in: password hashes and CSRF tokens."""

from __future__ import annotations

from services.review.accounts import SessionSigner, check_password, hash_password


def test_password_hash_checks_the_right_password_only() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert check_password("correct horse", stored)
    assert not check_password("wrong horse", stored)
    assert not check_password("correct horse", "garbage")


def test_csrf_token_is_bound_to_the_session_and_the_secret() -> None:
    signer = SessionSigner("k" * 32)
    assert signer.csrf("cookie-a") != signer.csrf("cookie-b")
    assert signer.csrf("cookie-a") == SessionSigner("k" * 32).csrf("cookie-a")
    assert signer.csrf("cookie-a") != SessionSigner("other" * 8).csrf("cookie-a")
