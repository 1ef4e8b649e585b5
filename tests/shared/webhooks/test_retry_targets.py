"""Retry schedule spans about three days; the SSRF guard refuses internal targets."""

from __future__ import annotations

import random
import socket

import pytest

from shared.webhooks.retry import MAX_ATTEMPTS, next_delay, nominal_delay, total_span_s
from shared.webhooks.targets import UnsafeTarget, check_target, resolve_target


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


# Every form an attacker used (or could use) to reach an internal machine through a partner webhook.
REFUSED_FORMS = [
    "http://100.64.0.1/hook",  # CGNAT 100.64.0.0/10
    "http://100.127.255.254/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "http://[2002:a00:1::1]/hook",  # 6to4 of 10.0.0.1
    "http://[2002:a9fe:a9fe::]/hook",  # 6to4 of the metadata address
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "http://[::ffff:8.8.8.8]/hook",  # IPv4-mapped, even of a public address
    "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
    "http://[64:ff9b:1::808:808]/hook",  # local-use NAT64
    "http://2130706433/hook",  # decimal 127.0.0.1
    "http://0x7f000001/hook",  # hex
    "http://0x7f.0.0.1/hook",
    "http://0177.0.0.1/hook",  # octal
    "http://127.1/hook",  # short form
    "http://017700000001/hook",
    "http://[fec0::1]/hook",  # site-local
    "http://[fe80::1%25eth0]/hook",  # link-local with a zone
    "http://[fc00::1]/hook",  # unique local
    "http://0.0.0.0/hook",
    "http://198.18.0.1/hook",  # benchmarking range
    "http://192.0.0.1/hook",  # IETF protocol assignments
    "http://240.0.0.1/hook",  # reserved
    "http://224.0.0.1/hook",  # multicast
    "http://[ff0e::1]/hook",  # global-scope multicast: Python calls it global
    "http://localhost/hook",
]


@pytest.mark.parametrize("url", REFUSED_FORMS)
def test_every_internal_address_form_is_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        check_target(url)


@pytest.mark.parametrize("url", ["http://8.8.8.8/hook", "https://[2606:4700:4700::1111]/x",
                                 "http://[2002:808:808::1]/hook", "http://[64:ff9b::808:808]/hook"])  # fmt: skip
def test_globally_routable_addresses_pass(url: str) -> None:
    check_target(url)


def test_private_setting_does_not_open_cgnat_or_loopback_wrappers() -> None:
    check_target("http://10.1.2.3/", allow_private=True)
    for url in ("http://100.64.0.1/", "http://[2002:7f00:1::]/", "http://[::ffff:10.0.0.1]/"):
        with pytest.raises(UnsafeTarget):
            check_target(url, allow_private=True)


def test_a_name_is_resolved_once_and_refused_if_any_answer_is_internal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = [("1.1.1.1", 80), ("100.64.3.4", 80)]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(0, 0, 0, "", ip) for ip in answers])
    with pytest.raises(UnsafeTarget, match="carrier-grade"):
        check_target("http://partner.example/hook")


def test_the_target_pins_the_checked_address_and_keeps_the_host_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(0, 0, 0, "", ("93.184.216.34", 443))])
    target = resolve_target("https://partner.example/hooks/t?x=1")
    assert target.pinned_url() == "https://93.184.216.34:443/hooks/t?x=1"
    assert target.host_header() == "partner.example"
