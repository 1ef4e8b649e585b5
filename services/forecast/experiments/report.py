"""One experiment report: per-arm figures, tests against control, P(best), and a sequential verdict."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from services.forecast.experiments.sequential import always_valid_p, default_tau
from services.forecast.experiments.stats import (
    Arm,
    compare,
    comparison_alpha,
    detectable_effect,
    diff_se,
    is_binary,
    power_for,
    prob_best,
)


class TooFewArms(ValueError):
    pass


def _arms(groups: dict[str, np.ndarray]) -> dict[str, Arm]:
    binary = all(is_binary(v) for v in groups.values())
    return {name: Arm.of(v, binary) for name, v in groups.items()}


def _arm_json(arm: Arm, p_best: float) -> dict[str, Any]:
    lo, hi = arm.ci95()
    return {"n": arm.n, "mean": round(arm.mean, 6), "ci_low": round(lo, 6), "ci_high": round(hi, 6),
            "prob_best": round(p_best, 4)}  # fmt: skip


def analyze(
    groups: dict[str, np.ndarray],
    control: str | None = None,
    alpha: float = 0.05,
    mde: float | None = None,
) -> dict[str, Any]:
    """Arms (n, mean, 95% CI, P(best)) and a verdict; variants are tested against control (Bonferroni)."""
    if len(groups) < 2:
        raise TooFewArms(f"an experiment needs at least two arms, got {len(groups)}")
    control = control if control is not None else sorted(groups)[0]
    if control not in groups:
        raise ValueError(f"control {control!r} is not an arm (arms: {', '.join(sorted(groups))})")
    arms = _arms(groups)
    best = prob_best(arms)
    level = comparison_alpha(alpha, len(arms))
    comparisons = {}
    for name in (a for a in arms if a != control):
        c = compare(arms[control], arms[name])
        tau = default_tau(groups[control], groups[name], mde)
        seq_p, first = always_valid_p(groups[control], groups[name], tau, alpha=level)
        se = diff_se(arms[control], arms[name])
        comparisons[name] = {
            **{k: round(v, 6) if isinstance(v, float) else v for k, v in c.items()},
            "significant": float(c["p_value"]) < level,
            "sequential_p": round(seq_p, 6),
            "sequential_significant": seq_p < level,
            "sequential_first_crossing_n": first,
            "mde_80": round(detectable_effect(se, level), 6),
            "power_at_mde": round(power_for(mde, se, level), 4) if mde else None,
        }
    return {
        "metric_type": "binary" if next(iter(arms.values())).binary else "continuous",
        "control": control,
        "arms": {n: _arm_json(a, best[n]) for n, a in arms.items()},
        "verdict": _verdict(arms, control, comparisons, best, alpha),
        "recommendation": recommend(arms, control, comparisons, mde),
    }


def _verdict(
    arms: dict[str, Arm],
    control: str,
    comparisons: dict[str, dict[str, Any]],
    best: dict[str, float],
    alpha: float,
) -> dict[str, Any]:
    winner = max(best, key=lambda n: best[n])
    sig = [n for n, c in comparisons.items() if c["significant"]]
    seq = [n for n, c in comparisons.items() if c["sequential_significant"]]
    if not sig:
        decision = "no_difference_detected"
        text = f"No variant differs from {control} at alpha={alpha} (fixed-horizon test)."
    else:
        better = [n for n in sig if comparisons[n]["diff"] > 0]
        decision = "variant_better" if better else "control_better"
        who = ", ".join(better) if better else control
        text = f"{who} performs best; differences vs {control} significant for {', '.join(sig)}."
    return {
        "decision": decision,
        "summary": text,
        "most_likely_best": winner,
        "prob_best": round(best[winner], 4),
        "alpha": alpha,
        "comparisons": comparisons,
        "sequential_decision": "stop" if seq else "continue",
        "sequential_note": "mSPRT always-valid p-values: safe to read at any look",
    }


def recommend(
    arms: dict[str, Arm], control: str, comparisons: dict[str, dict[str, Any]], mde: float | None
) -> str:
    """One sentence to act on, reconciling the fixed-horizon test (valid at the planned end only) with the
    always-valid one (valid at any look)."""
    up = {n: c for n, c in comparisons.items() if c["diff"] > 0}
    confirmed = [n for n, c in up.items() if c["sequential_significant"]]
    if confirmed:
        best = max(confirmed, key=lambda n: up[n]["diff"])
        return f"Adopt {best}: {_diff(up[best])} vs {control}, significant even if the results were watched along the way."
    fixed = [n for n, c in up.items() if c["significant"]]
    if fixed:
        best = max(fixed, key=lambda n: up[n]["diff"])
        return (f"Adopt {best} only if this is the planned end of a test sized in advance ({_diff(up[best])}, "
                f"p={up[best]['p_value']:.2g}); if the results were watched along the way, keep running: the "
                "peeking-safe test has not confirmed it yet.")  # fmt: skip
    worse = [
        n
        for n, c in comparisons.items()
        if c["diff"] < 0 and (c["significant"] or c["sequential_significant"])
    ]
    if worse:
        return f"Keep {control}: {', '.join(worse)} did worse ({'; '.join(_diff(comparisons[n]) for n in worse)})."
    reach = max(c["mde_80"] for c in comparisons.values())
    if mde and reach > abs(mde):
        need = math.ceil(min(a.n for a in arms.values()) * (reach / abs(mde)) ** 2)
        return (f"Keep running: no difference yet, and at this size only differences of {reach:.3g} or more are "
                f"found with 80% power; detecting {mde:g} needs about {need:,} per arm.")  # fmt: skip
    if mde:
        return f"Keep {control}: no variant differs, and a difference of {mde:g} would have been found with 80% power."
    return (f"Keep {control}: no variant differs. Differences below {reach:.3g} could still exist (80% power at "
            "this size); give --mde to say which difference matters.")  # fmt: skip


def _diff(c: dict[str, Any]) -> str:
    return f"{c['diff']:+.4g} (95% CI {c['diff_ci_low']:+.4g} to {c['diff_ci_high']:+.4g})"
