"""Audience quality: the corrected fake share, its interval's coverage, follower types and the score."""

from __future__ import annotations

import numpy as np
import pytest

from services.fraud.audience import (
    ErrorRates,
    confident,
    corrected_share,
    engagement_authenticity,
    follower_types,
    growth_naturalness,
    quality_score,
    rogan_gladen,
)

TRUE_SE, TRUE_SP = 0.94, 0.97
# The size of the validation set behind the shipped card (87 fakes, 208 real Instagram accounts).
VALIDATION_FAKES, VALIDATION_REAL = 87, 208


def _simulate(share: float, n: int, sims: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Known truth: draw a validation set, then a follower sample classified with the true error rates."""
    rng = np.random.default_rng(seed)
    est, low, high = np.empty(sims), np.empty(sims), np.empty(sims)
    for i in range(sims):
        tp = int(rng.binomial(VALIDATION_FAKES, TRUE_SE))
        tn = int(rng.binomial(VALIDATION_REAL, TRUE_SP))
        rates = ErrorRates(tp=tp, fn=VALIDATION_FAKES - tp, tn=tn, fp=VALIDATION_REAL - tn)
        fakes = int(rng.binomial(n, share))
        flagged = int(rng.binomial(fakes, TRUE_SE) + rng.binomial(n - fakes, 1 - TRUE_SP))
        e = corrected_share(flagged, n, rates, seed=i)
        est[i], low[i], high[i] = e.estimate, e.low, e.high
    return est, low, high


@pytest.mark.parametrize("share", [0.05, 0.2, 0.45])
def test_corrected_share_interval_covers_truth_at_1000_followers(share: float) -> None:
    est, low, high = _simulate(share, n=1000, sims=300, seed=int(share * 100))
    coverage = float(np.mean((low <= share) & (share <= high)))
    assert coverage >= 0.90
    assert abs(float(est.mean()) - share) < 0.03


def test_corrected_share_removes_classifier_bias() -> None:
    rates = ErrorRates(tp=90, fn=10, tn=95, fp=5)  # Se 0.9, Sp 0.95
    # 30% true fakes are seen as 0.3 * 0.9 + 0.7 * 0.05 = 30.5%
    e = corrected_share(flagged=305, n=1000, rates=rates)
    assert e.apparent == pytest.approx(0.305)
    assert e.estimate == pytest.approx(0.30, abs=1e-9)
    assert e.low < 0.30 < e.high


def test_corrected_share_interval_widens_with_fewer_validation_rows() -> None:
    many = corrected_share(200, 1000, ErrorRates(tp=900, fn=100, tn=950, fp=50))
    few = corrected_share(200, 1000, ErrorRates(tp=9, fn=1, tn=19, fp=1))
    assert few.high - few.low > many.high - many.low


def test_confident_is_false_for_small_samples() -> None:
    rates = ErrorRates(tp=82, fn=5, tn=202, fp=6)
    assert not confident(corrected_share(3, 30, rates))
    assert confident(corrected_share(100, 1000, rates))


def test_rogan_gladen_clips_to_unit_interval() -> None:
    assert float(rogan_gladen(0.0, 0.9, 0.9)) == 0.0
    assert float(rogan_gladen(1.0, 0.9, 0.9)) == 1.0


def test_follower_types_counts_each_account_once() -> None:
    followers = np.array([100, 20_000, 300, 50])
    following = np.array([200, 300, 4_000, 7_000])
    fake = np.array([0, 0, 0, 1])
    assert follower_types(followers, following, fake) == {
        "real": 0.25, "influencers": 0.25, "mass_followers": 0.25, "suspicious": 0.25
    }  # fmt: skip


def test_engagement_authenticity_penalises_both_sides() -> None:
    assert engagement_authenticity(1.0) == 1.0
    assert engagement_authenticity(0.1) < 0.5
    assert engagement_authenticity(10.0) < 0.5


def test_growth_naturalness_penalises_spikes_only() -> None:
    assert growth_naturalness(0.03, 0.02) == 1.0
    assert growth_naturalness(0.6, 0.02) < 0.5


def test_quality_score_renormalises_missing_parts() -> None:
    assert quality_score(0.0, 0.0, None, None) == 100
    assert quality_score(0.5, 0.0, None, None) == 50
    assert quality_score(0.2, 0.2, 1.0, 1.0) == round(100 * (0.6 * 0.7 + 0.25 + 0.15))
