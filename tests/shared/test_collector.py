"""The collector pause shared by bulk requests and consumer polls."""

from __future__ import annotations

import gc

import pytest

from shared.collector import collector_paused


def test_collector_paused_resumes_when_the_last_overlapping_pause_ends_even_on_error() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a second batch in flight (a bulk request beside a poll)
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("a body that fails validation")
    assert gc.isenabled()


def test_collector_stays_off_after_a_pause_if_it_was_off_before() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
