"""Retry schedule spans about three days; the SSRF guard refuses internal targets."""

from __future__ import annotations

import random

import pytest

from shared.webhooks.retry import MAX_ATTEMPTS, next_delay, nominal_delay, total_span_s
from shared.webhooks.targets import UnsafeTarget, check_target


def test_retries_span_about_three_days() -> None:
    assert 2.5 * 86400 <= total_span_s() <= 3.5 * 86400


def test_delays_grow_and_are_jittered_within_half_to_full() -> None:
    rng = random.Random(1)
    for attempt in range(1, MAX_ATTEMPTS):
        d = next_delay(attempt, rng)
        assert d is not None
        assert nominal_delay(attempt) / 2 <= d <= nominal_delay(attempt)
    assert nominal_delay(3) > nominal_delay(2)


def test_delivery_is_given_up_after_the_last_attempt() -> None:
    assert next_delay(MAX_ATTEMPTS) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://192.168.0.10/",
        "ftp://example.com/x",
    ],
)
def test_internal_targets_are_refused_by_default(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        check_target(url)


def test_loopback_is_allowed_when_the_setting_allows_it() -> None:
    check_target("http://127.0.0.1:9/hook", allow_loopback=True)


def test_link_local_stays_refused_even_when_loopback_is_allowed() -> None:
    with pytest.raises(UnsafeTarget, match="link-local"):
        check_target("http://169.254.169.254/", allow_loopback=True, allow_private=True)
