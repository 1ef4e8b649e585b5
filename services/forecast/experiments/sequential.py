"""A peeking-safe verdict: the mixture sequential probability ratio test (mSPRT).

Johari, Pekelis & Walsh, "Always valid inference" (2017/2022): with a normal mixing distribution
N(0, tau^2) over the true difference, Lambda_n is a nonnegative martingale under H0, so by Ville's
inequality P(sup_n Lambda_n >= 1/alpha) <= alpha: one may look after every observation and stop at the
first crossing without inflating the false-positive rate. The always-valid p-value is min_n 1/Lambda_n.
"""

from __future__ import annotations

import math

import numpy as np


def log_lambda(diff: np.ndarray, v: np.ndarray, tau2: float) -> np.ndarray:
    """log Lambda for observed differences `diff` with sampling variance `v` (variance of the difference)."""
    return 0.5 * np.log(v / (v + tau2)) + tau2 * diff**2 / (2 * v * (v + tau2))


def running_stats(
    a: np.ndarray, b: np.ndarray, looks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At each look (count of rows seen per arm): difference of means, its variance, and the counts."""
    ca, cb = np.cumsum(a), np.cumsum(b)
    qa, qb = np.cumsum(a * a), np.cumsum(b * b)
    na, nb = np.minimum(looks, len(a)), np.minimum(looks, len(b))
    ma, mb = ca[na - 1] / na, cb[nb - 1] / nb
    va = np.maximum(qa[na - 1] / na - ma**2, 1e-12)
    vb = np.maximum(qb[nb - 1] / nb - mb**2, 1e-12)
    return mb - ma, va / na + vb / nb, np.minimum(na, nb)


def always_valid_p(
    control: np.ndarray,
    variant: np.ndarray,
    tau: float,
    alpha: float = 0.05,
    looks: int = 100,
    min_n: int = 100,
) -> tuple[float, int | None]:
    """Always-valid p-value after `looks` evenly spaced peeks, and the rows per arm at its first crossing of alpha."""
    n = min(len(control), len(variant))
    if n < 2:
        return 1.0, None
    points = np.unique(np.linspace(min(min_n, n), n, num=looks).astype(int))
    diff, v, _ = running_stats(control, variant, points)
    p_path = np.minimum.accumulate(np.minimum(1.0, np.exp(-log_lambda(diff, v, tau * tau))))
    crossed = np.flatnonzero(p_path <= alpha)
    return float(p_path[-1]), (int(points[crossed[0]]) if len(crossed) else None)


def default_tau(control: np.ndarray, variant: np.ndarray, mde: float | None) -> float:
    """Mixing scale: the minimum detectable effect if given, else a tenth of a pooled standard deviation."""
    if mde:
        return abs(mde)
    sd = float(np.std(np.concatenate([control, variant])))
    return max(0.1 * sd, 1e-9) if math.isfinite(sd) else 1.0
