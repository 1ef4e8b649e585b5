"""Who a follower sample is: countries, languages, age bands and gender, each share with its 95% interval.

Shares are over the followers whose value the source shows (a profile without a country says nothing
about countries), so each dimension carries its own sample size. The interval is Wilson's: unlike the
normal approximation it stays inside 0..1 and is honest for small counts and shares near 0 or 1.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

from services.fraud.schemas import FollowerProfile
from shared.events import AudienceBreakdown, ShareInterval
from shared.vocabulary import AGE_BANDS

Z95 = 1.96
# Band lower bounds, in AGE_BANDS order ("55+" open-ended).
_BAND_STARTS = [int(b.split("-")[0].rstrip("+")) for b in AGE_BANDS]


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def age_band(age: int) -> str:
    return next(
        b for b, start in zip(reversed(AGE_BANDS), reversed(_BAND_STARTS), strict=True) if age >= start
    )


def breakdown(dimension: str, values: list[str]) -> AudienceBreakdown:
    n = len(values)
    shares = []
    for value, k in Counter(values).most_common():
        low, high = wilson(k, n)
        shares.append(
            ShareInterval(value=value, share=round(k / n, 4), low=round(low, 4), high=round(high, 4))
        )
    return AudienceBreakdown(dimension=dimension, sample_size=n, shares=shares)


_DIMENSIONS: dict[str, Callable[[FollowerProfile], str | None]] = {
    "country": lambda p: p.country.upper() if p.country else None,
    "language": lambda p: p.language.lower() if p.language else None,
    "age": lambda p: age_band(p.age) if p.age is not None else None,
    "gender": lambda p: p.gender,
}


def breakdowns(followers: list[FollowerProfile]) -> list[AudienceBreakdown]:
    """One breakdown per dimension the sample shows at all."""
    out = []
    for dimension, read in _DIMENSIONS.items():
        values = [v for v in map(read, followers) if v is not None]
        if values:
            out.append(breakdown(dimension, values))
    return out
