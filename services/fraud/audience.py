"""Audience quality from a follower sample: fake share corrected for the classifier's own errors.

The classifier's apparent fake share q is biased: it misses some fakes (sensitivity Se < 1) and flags
some real accounts (specificity Sp < 1). Rogan-Gladen inverts that: p = (q + Sp - 1) / (Se + Sp - 1).
The 95% interval is a Monte Carlo over both uncertainties at once: q from the sample (Jeffreys Beta),
Se and Sp from the validation counts on the card (Jeffreys Beta each), so a small validation set
widens the interval instead of being ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_SAMPLE = 100  # below this the sampling error alone is > +-10 points: say so rather than guess
MAX_INTERVAL_WIDTH = 0.25
DRAWS = 4000
# HypeAuditor's follower types (product.md): influencers > 5k followers and < 1.5k following,
# mass followers follow > 1.5k accounts (they see little of any one feed).
MASS_FOLLOWING = 1500
INFLUENCER_FOLLOWERS = 5000


@dataclass(frozen=True)
class ErrorRates:
    """Held-out confusion counts of the classifier (fake = positive), from its model card."""

    tp: int
    fn: int
    tn: int
    fp: int

    @property
    def sensitivity(self) -> float:
        return self.tp / max(self.tp + self.fn, 1)

    @property
    def specificity(self) -> float:
        return self.tn / max(self.tn + self.fp, 1)


@dataclass(frozen=True)
class ShareEstimate:
    apparent: float
    estimate: float
    low: float
    high: float
    n: int


def rogan_gladen(apparent: np.ndarray | float, se: np.ndarray | float, sp: np.ndarray | float) -> np.ndarray:
    """True prevalence from apparent prevalence; clipped to [0, 1] (sampling can push it outside)."""
    denom = np.maximum(np.asarray(se) + np.asarray(sp) - 1.0, 1e-3)
    return np.clip((np.asarray(apparent) + np.asarray(sp) - 1.0) / denom, 0.0, 1.0)


def corrected_share(flagged: int, n: int, rates: ErrorRates, seed: int = 0) -> ShareEstimate:
    """Point estimate and 95% interval of the true fake share, from `flagged` of `n` classified fake."""
    rng = np.random.default_rng([seed, flagged, n])
    q = rng.beta(flagged + 0.5, n - flagged + 0.5, DRAWS)
    se = rng.beta(rates.tp + 0.5, rates.fn + 0.5, DRAWS)
    sp = rng.beta(rates.tn + 0.5, rates.fp + 0.5, DRAWS)
    draws = rogan_gladen(q, se, sp)
    apparent = flagged / n if n else math.nan
    point = float(rogan_gladen(apparent, rates.sensitivity, rates.specificity))
    low, high = (float(v) for v in np.quantile(draws, [0.025, 0.975]))
    return ShareEstimate(apparent=apparent, estimate=point, low=low, high=high, n=n)


def confident(est: ShareEstimate) -> bool:
    return est.n >= MIN_SAMPLE and est.high - est.low <= MAX_INTERVAL_WIDTH


def follower_types(followers: np.ndarray, following: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """Shares of suspicious, mass followers, influencers and real accounts (each account counted once)."""
    n = max(len(fake), 1)
    suspicious = fake.astype(bool)
    mass = ~suspicious & (following > MASS_FOLLOWING)
    influencer = ~suspicious & ~mass & (followers > INFLUENCER_FOLLOWERS)
    real = ~suspicious & ~mass & ~influencer
    return {
        "real": round(float(real.sum()) / n, 4),
        "influencers": round(float(influencer.sum()) / n, 4),
        "mass_followers": round(float(mass.sum()) / n, 4),
        "suspicious": round(float(suspicious.sum()) / n, 4),
    }


def engagement_authenticity(er_ratio: float) -> float:
    """1 inside 0.5x-2.5x the tier median, falling off with the log distance outside it."""
    if er_ratio <= 0:
        return 0.0
    outside = max(math.log(0.5 / er_ratio), math.log(er_ratio / 2.5), 0.0)
    return math.exp(-outside)


def growth_naturalness(max_growth: float, median_growth: float) -> float:
    """1 for steady growth; a month > 3x the typical month (and > 10%) costs in proportion to its size."""
    spike = max_growth / max(median_growth, 0.005)
    if max_growth <= 0.1 or spike <= 3:
        return 1.0
    return math.exp(-math.log(spike / 3) / 2)


def quality_score(
    fake_share: float, mass_share: float, engagement: float | None, growth: float | None
) -> int:
    """Audience Quality Score 0-100: audience 60%, engagement authenticity 25%, growth 15%.

    Mass followers count half: they are real people who rarely see a post. Missing parts are left out
    and the weights of the rest renormalised.
    """
    audience = max(0.0, 1.0 - fake_share - 0.5 * mass_share)
    parts = [(audience, 0.6), (engagement, 0.25), (growth, 0.15)]
    known = [(v, w) for v, w in parts if v is not None]
    return round(100 * sum(v * w for v, w in known) / sum(w for _, w in known))
