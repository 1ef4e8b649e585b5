"""When to try a failed delivery again: exponential backoff with full jitter over about three days."""

from __future__ import annotations

import random

# 5 s doubling to a 10 h ceiling: the 19 waits between 20 attempts add up to ~3 days (nominal).
BASE_DELAY_S = 5.0
MAX_DELAY_S = 10 * 3600.0
MAX_ATTEMPTS = 20


def nominal_delay(attempt: int) -> float:
    """Delay before attempt `attempt + 1` (attempt counts from 1) before jitter."""
    return min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))


def next_delay(attempt: int, rng: random.Random | None = None) -> float | None:
    """Seconds to wait after a failed attempt, or None when the delivery should be given up."""
    if attempt >= MAX_ATTEMPTS:
        return None
    nominal = nominal_delay(attempt)
    # Half fixed, half jittered: spreads a thundering herd without ever retrying immediately.
    return nominal / 2 + (rng or random).uniform(0, nominal / 2)


def total_span_s() -> float:
    return sum(nominal_delay(a) for a in range(1, MAX_ATTEMPTS))
