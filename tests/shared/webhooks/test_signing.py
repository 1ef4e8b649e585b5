"""Our signatures verify with the Standard Webhooks reference library, and forgeries are refused."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from shared.webhooks.signing import WebhookVerificationError, new_secret, sign_headers, signature, verify

BODY = b'{"type":"shortlist.published","data":{"campaign_id":"cmp-1"}}'


def test_signature_verifies_with_the_reference_library() -> None:
    secret = new_secret()
    headers = sign_headers([secret], "msg_1", BODY)
    assert Webhook(secret).verify(BODY, headers) == {
        "type": "shortlist.published",
        "data": {"campaign_id": "cmp-1"},
    }


def test_reference_library_signature_verifies_with_ours() -> None:
    secret = new_secret()
    ts = int(time.time())
    sig = Webhook(secret).sign("msg_2", datetime.fromtimestamp(ts, UTC), BODY.decode())
    headers = {"webhook-id": "msg_2", "webhook-timestamp": str(ts), "webhook-signature": sig}
    assert verify([secret], headers, BODY) == "msg_2"


def test_either_secret_verifies_during_rotation() -> None:
    old, new = new_secret(), new_secret()
    headers = sign_headers([old, new], "msg_3", BODY)
    assert verify([new], headers, BODY) == "msg_3"
    assert verify([old], headers, BODY) == "msg_3"


def test_forged_signature_is_refused() -> None:
    headers = sign_headers([new_secret()], "msg_4", BODY)
    with pytest.raises(WebhookVerificationError, match="no matching signature"):
        verify([new_secret()], headers, BODY)


def test_tampered_body_is_refused() -> None:
    secret = new_secret()
    headers = sign_headers([secret], "msg_5", BODY)
    with pytest.raises(WebhookVerificationError):
        verify([secret], headers, BODY.replace(b"cmp-1", b"cmp-2"))


def test_stale_timestamp_is_refused() -> None:
    secret = new_secret()
    old = int(time.time()) - 3600
    headers = sign_headers([secret], "msg_6", BODY, timestamp=old)
    with pytest.raises(WebhookVerificationError, match="from now"):
        verify([secret], headers, BODY)


def test_missing_headers_are_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify([new_secret()], {"webhook-id": "x"}, BODY)


def test_signature_is_deterministic_for_the_same_inputs() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert signature(secret, "msg", 1614265330, b"{}") == signature(secret, "msg", 1614265330, b"{}")
    assert signature(secret, "msg", 1614265330, b"{}") != signature(secret, "msg", 1614265331, b"{}")
