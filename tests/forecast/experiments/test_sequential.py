"""The mSPRT verdict stays valid under repeated peeking; a naive peeking z test does not."""

from __future__ import annotations

import numpy as np

from services.forecast.experiments.sequential import always_valid_p, log_lambda, running_stats

ALPHA = 0.05


def _naive_peeking_rejects(a: np.ndarray, b: np.ndarray, looks: np.ndarray) -> bool:
    diff, v, _ = running_stats(a, b, looks)
    return bool((np.abs(diff) / np.sqrt(v) > 1.96).any())


def test_msprt_false_positive_rate_under_peeking_is_at_most_alpha() -> None:
    rng = np.random.default_rng(42)
    sims, n, tau = 400, 3000, 0.05
    looks = np.arange(100, n + 1, 25)  # 117 peeks per experiment
    seq_rejects = naive_rejects = 0
    for _ in range(sims):
        a, b = (rng.random(n) < 0.2).astype(float), (rng.random(n) < 0.2).astype(float)  # A/A: H0 true
        p, _ = always_valid_p(a, b, tau, alpha=ALPHA, looks=len(looks))
        seq_rejects += p <= ALPHA
        naive_rejects += _naive_peeking_rejects(a, b, looks)
    assert seq_rejects / sims <= ALPHA
    assert naive_rejects / sims > 2 * ALPHA  # the inflation the sequential test exists to prevent


def test_msprt_detects_a_real_difference() -> None:
    rng = np.random.default_rng(3)
    a, b = (rng.random(5000) < 0.20).astype(float), (rng.random(5000) < 0.25).astype(float)
    p, first = always_valid_p(a, b, tau=0.05)
    assert p < 0.01
    assert first is not None and first < 5000


def test_log_lambda_grows_with_the_observed_difference() -> None:
    v = np.array([1e-4, 1e-4])
    small, large = log_lambda(np.array([0.001, 0.03]), v, 0.0025)
    assert large > small
