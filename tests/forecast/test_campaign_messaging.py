"""Messages as arms: balanced allocation, Thompson re-allocation, and a cluster-robust verdict that picks a
real winner and rarely a false one (simulation, seeded, no network, a few seconds)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from services.forecast.campaigns import messaging as m

# The planned size of the default proposal: 50 creators x 3 posts (the benchmark's and the demo's shape).
CREATORS, POSTS = 50, 3
# Performance against forecast on the log scale: each creator is off by N(0, 0.3) (the forecast misses
# creator-specific appeal), each post by a further N(0, 0.45). A lift of 0.5 is a message that brings
# e^0.5 = 1.65x the reach of the other.
CREATOR_SD, POST_SD, LIFT = 0.3, 0.45, 0.5
RUNS = 400


def _campaign(lift: float, seed: int) -> str | None:
    """One simulated campaign: half the creators post under the balanced allocation, Thompson sampling
    re-allocates the other half, they post, and the analysis gives its verdict."""
    rng = np.random.default_rng(seed)
    creators = [f"c{i}" for i in range(CREATORS)]
    appeal = dict(zip(creators, rng.normal(0, CREATOR_SD, CREATORS), strict=True))
    true = {"A": 0.0, "B": lift}
    first, second = creators[: CREATORS // 2], creators[CREATORS // 2 :]
    allocation = m.balanced([first], ["A", "B"], rng)
    obs: list[m.Observation] = []
    for wave in (first, second):
        for c in wave:
            for _ in range(POSTS):
                y = appeal[c] + true[allocation[c]] + rng.normal(0, POST_SD)
                obs.append(m.Observation(c, allocation[c], y))
        allocation |= m.thompson(obs, ["A", "B"], second, rng)
    return m.analyse(obs, ["A", "B"], seed=seed).winner


def test_true_lift_is_picked_in_at_least_95_percent_of_campaigns() -> None:
    winners = Counter(_campaign(LIFT, seed) for seed in range(RUNS))
    print(f"lift {LIFT}: winners {dict(winners)}")
    assert winners["B"] / RUNS >= 0.95
    assert winners["A"] == 0


def test_no_difference_gives_false_wins_in_at_most_5_percent_of_campaigns() -> None:
    winners = Counter(_campaign(0.0, 10_000 + seed) for seed in range(RUNS))
    print(f"no lift: winners {dict(winners)}")
    assert (winners["A"] + winners["B"]) / RUNS <= 0.05


def test_balanced_allocation_gives_every_block_of_similar_creators_each_message() -> None:
    strata = [[f"ig{i}" for i in range(7)], [f"tt{i}" for i in range(4)]]
    out = m.balanced(strata, ["A", "B", "C"], np.random.default_rng(1))
    for stratum in strata:
        for start in range(0, len(stratum) - 2, 3):
            assert sorted(out[c] for c in stratum[start : start + 3]) == ["A", "B", "C"]
    assert max(Counter(out.values()).values()) - min(Counter(out.values()).values()) <= 1


def test_thompson_sends_most_but_not_all_creators_to_the_clear_leader() -> None:
    obs = [m.Observation(f"c{i}", v, (0.8 if v == "B" else 0.0) + 0.01 * (i % 3))
           for i in range(20) for v in ("A", "B") if (i % 2 == 0) == (v == "A")]  # fmt: skip
    picks = Counter(
        m.thompson(obs, ["A", "B"], [f"n{i}" for i in range(2000)], np.random.default_rng(3)).values()
    )
    share_b = picks["B"] / 2000
    assert 0.7 <= share_b <= 0.8  # the leader's probability (~1) capped so the runner-up keeps 25%


def test_verdict_is_cluster_robust_a_creator_posting_many_times_counts_once() -> None:
    """Ten posts by one lucky creator must not make a message win: the creator is the cluster."""
    rng = np.random.default_rng(5)
    obs = [m.Observation(f"a{i}", "A", rng.normal(0, 0.3)) for i in range(6)]
    obs += [m.Observation(f"b{i}", "B", rng.normal(0, 0.3)) for i in range(5)]
    obs += [m.Observation("b-lucky", "B", 1.5 + rng.normal(0, 0.05)) for _ in range(10)]
    verdict = m.analyse(obs, ["A", "B"])
    assert verdict.winner is None and verdict.leader == "B"
    naive_t = np.mean([o.y for o in obs if o.variant_id == "B"]) - np.mean(
        [o.y for o in obs if o.variant_id == "A"]
    )
    assert naive_t > 0.5  # treated as 15 independent posts, B would look like a clear win


def test_too_few_creators_is_too_early_to_call() -> None:
    v = m.analyse([m.Observation("c1", "A", 0.1), m.Observation("c2", "B", 0.3)], ["A", "B"])
    assert v.winner is None and "Too early" in v.summary
