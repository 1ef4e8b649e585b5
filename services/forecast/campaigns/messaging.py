"""Message variants as arms: balanced allocation over comparable creators, Thompson re-allocation, and a
cluster-robust verdict on which message won.

The outcome of a post is its performance against its own forecast, y = log1p(actual) - log1p(p50), so a
creator's size, platform, format and day (all in the forecast) do not masquerade as a message effect.
Posts of one creator share an audience, so they are not independent: the creator is the cluster. The
analysis compares at the cluster level: each creator's posts are averaged per message (every creator
counts once), then OLS of those means on one dummy per variant with the CR1 cluster-robust covariance
(Liang-Zeger, with the G/(G-1) (N-1)/(N-K) factor; a creator with two messages is one cluster) and
Student t with G-1 degrees of freedom, G = creators.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

# A message is declared the winner only when it is best with this probability; with two messages and no
# true difference that is a false win about 2% of the time (tests/forecast/test_campaign_messaging.py).
WIN_PROBABILITY = 0.99
# Before any result: each message's lift over the forecast ~ N(0, 0.5^2) on the log scale (a message
# moving a post by more than x2.7 either way is rare), so early draws spread the allocation.
PRIOR_SD = 0.5
DRAWS = 20_000
# Each message keeps at least FLOOR / (number of messages) of the re-allocated creators.
FLOOR = 0.5


@dataclass(frozen=True)
class Observation:
    creator_id: str
    variant_id: str
    y: float


@dataclass(frozen=True)
class ArmSummary:
    variant_id: str
    posts: int
    creators: int
    mean: float
    se: float

    @property
    def lift(self) -> float:
        """Average performance against forecast, as a fraction (0.12 = 12% above the forecast's p50)."""
        return math.expm1(self.mean)


@dataclass(frozen=True)
class Verdict:
    arms: list[ArmSummary]
    leader: str | None
    prob_best: dict[str, float]
    diff: float | None
    diff_low: float | None
    diff_high: float | None
    winner: str | None
    summary: str


def rng_for(*parts: str) -> np.random.Generator:
    """A generator seeded by the campaign's identity, so a re-run proposes the same allocation."""
    return np.random.default_rng(int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:15], 16))


def balanced(strata: list[list[str]], variants: list[str], rng: np.random.Generator,
             used: dict[str, int] | None = None) -> dict[str, str]:  # fmt: skip
    """Creator -> variant: within each stratum of similar creators (ordered), consecutive blocks of
    len(variants) creators get every variant once in random order, so arms are comparable by design.
    `used` counts creators already on each variant (fixed lines); leftovers go to the least used."""
    counts = defaultdict(int, used or {})
    out: dict[str, str] = {}
    k = len(variants)
    for stratum in strata:
        for start in range(0, len(stratum), k):
            block = stratum[start : start + k]
            order = sorted(variants, key=lambda v: (counts[v], rng.random()))[: len(block)]
            for creator, v in zip(block, rng.permutation(order).tolist(), strict=True):
                out[creator] = v
                counts[v] += 1
    return out


def per_creator(obs: list[Observation]) -> list[Observation]:
    """One observation per creator and message (the mean of its posts): a creator counts once per arm,
    however many times it posted, so one prolific creator cannot carry a message."""
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for o in obs:
        groups[(o.creator_id, o.variant_id)].append(o.y)
    return [Observation(c, v, float(np.mean(ys))) for (c, v), ys in groups.items()]


def _cluster_fit(obs: list[Observation], variants: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-variant means of creators' means and their CR1 cluster-robust covariance (a creator carrying
    two messages is one cluster); G = number of creators."""
    obs = per_creator(obs)
    idx = {v: i for i, v in enumerate(variants)}
    y = np.array([o.y for o in obs])
    x = np.zeros((len(obs), len(variants)))
    for row, o in enumerate(obs):
        x[row, idx[o.variant_id]] = 1.0
    n = x.sum(axis=0)
    beta = (x * y[:, None]).sum(axis=0) / np.maximum(n, 1)
    resid = y - x @ beta
    clusters: dict[str, np.ndarray] = {}
    for row, o in enumerate(obs):
        clusters[o.creator_id] = clusters.get(o.creator_id, np.zeros(len(variants))) + x[row] * resid[row]
    meat = sum(np.outer(s, s) for s in clusters.values())
    bread = np.diag(1 / np.maximum(n, 1))
    g, big_n, k = len(clusters), len(obs), len(variants)
    factor = g / max(g - 1, 1) * (big_n - 1) / max(big_n - k, 1)
    return beta, factor * bread @ meat @ bread, g


def summarise(obs: list[Observation], variants: list[str]) -> list[ArmSummary]:
    beta, cov, _ = _cluster_fit(obs, variants) if obs else (np.zeros(len(variants)), np.zeros((0, 0)), 0)
    out = []
    for i, v in enumerate(variants):
        mine = [o for o in obs if o.variant_id == v]
        se = math.sqrt(max(cov[i, i], 0.0)) if mine else float("nan")
        out.append(ArmSummary(v, len(mine), len({o.creator_id for o in mine}), float(beta[i]), se))
    return out


def analyse(obs: list[Observation], variants: list[str], seed: int = 0) -> Verdict:
    """Which message is ahead, the probability it is best, the difference to the runner-up with its 95%
    interval (on the log scale: 0.1 = about 10% more), and whether that is sure enough to call a winner."""
    arms = summarise(obs, variants)
    ready = [a for a in arms if a.creators >= 2]
    if len(ready) < 2:
        return Verdict(arms, None, {}, None, None, None, None,
                       "Too early to compare messages: each needs results from at least two creators.")  # fmt: skip
    names = [a.variant_id for a in ready]
    beta, cov, g = _cluster_fit([o for o in obs if o.variant_id in names], names)
    df = max(g - 1, 1)
    rng = np.random.default_rng(seed)
    # Multivariate t draws: the posterior of the means under a flat prior with the cluster-robust covariance.
    chol = np.linalg.cholesky(cov + np.eye(len(names)) * 1e-12)
    z = rng.standard_normal((DRAWS, len(names))) @ chol.T
    draws = beta + z / np.sqrt(rng.chisquare(df, (DRAWS, 1)) / df)
    best = np.bincount(draws.argmax(axis=1), minlength=len(names)) / DRAWS
    prob = {n: float(p) for n, p in zip(names, best, strict=True)}
    order = np.argsort(-beta)
    lead, second = int(order[0]), int(order[1])
    diff = float(beta[lead] - beta[second])
    se = math.sqrt(max(cov[lead, lead] + cov[second, second] - 2 * cov[lead, second], 1e-18))
    half = float(stats.t.ppf(0.975, df)) * se
    leader = names[lead]
    winner = leader if prob[leader] >= WIN_PROBABILITY else None
    verdict = "won" if winner else "leads, not yet sure enough to call"
    summary = (f"Message {leader} {verdict}: best with probability {prob[leader]:.0%}; "
               f"{math.expm1(diff):+.0%} vs {names[second]} (95% interval {math.expm1(diff - half):+.0%} to "
               f"{math.expm1(diff + half):+.0%}), from {len(obs)} posts by {g} creators (creator = cluster).")  # fmt: skip
    return Verdict(arms, leader, prob, diff, diff - half, diff + half, winner, summary)


def thompson(obs: list[Observation], variants: list[str], creators: list[str],
             rng: np.random.Generator) -> dict[str, str]:  # fmt: skip
    """Creator -> variant by Thompson sampling: each creator gets a message with the probability that it
    is the best one. The posterior of each message's mean combines its cluster-robust estimate with the
    N(0, PRIOR_SD^2) prior. Every message keeps at least FLOOR of the allocation, so the experiment can
    still measure the runner-up (pure Thompson starves it, and the verdict loses power)."""
    arms = {a.variant_id: a for a in summarise(obs, variants)}
    means, sds = [], []
    for v in variants:
        a = arms[v]
        precision = 1 / PRIOR_SD**2 + (1 / a.se**2 if a.creators >= 2 and a.se > 0 else 0.0)
        means.append((a.mean / a.se**2 if a.creators >= 2 and a.se > 0 else 0.0) / precision)
        sds.append(math.sqrt(1 / precision))
    draws = rng.normal(means, sds, size=(DRAWS, len(variants)))
    p = np.bincount(draws.argmax(axis=1), minlength=len(variants)) / DRAWS
    floor = FLOOR / len(variants)
    p = np.maximum(p, floor)
    p = p / p.sum()
    picks = rng.choice(len(variants), size=len(creators), p=p)
    return {c: variants[int(i)] for c, i in zip(creators, picks, strict=True)}


def observations(
    lines: list[dict[str, Any]], actuals: dict[str, dict[str, float]], metric: str
) -> list[Observation]:
    """One observation per posted line: its variant, its creator, and log performance against forecast."""
    out = []
    for line in lines:
        if line["line_id"] not in actuals or not line.get("variant_id"):
            continue
        p50 = next((f["p50"] for f in line["forecast"] if f["metric"] == metric), 0.0)
        y = math.log1p(actuals[line["line_id"]].get(metric, 0.0)) - math.log1p(p50)
        out.append(Observation(line["creator_id"], line["variant_id"], y))
    return out
