"""One experiment report: per-arm figures, tests against control, P(best), and a sequential verdict."""

from __future__ import annotations

from typing import Any

import numpy as np

from services.forecast.experiments.sequential import always_valid_p, default_tau
from services.forecast.experiments.stats import Arm, compare, is_binary, prob_best


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
    level = alpha / (len(arms) - 1)  # Bonferroni: each variant vs control
    comparisons = {}
    for name in (a for a in arms if a != control):
        c = compare(arms[control], arms[name])
        tau = default_tau(groups[control], groups[name], mde)
        seq_p, first = always_valid_p(groups[control], groups[name], tau, alpha=level)
        comparisons[name] = {
            **{k: round(v, 6) if isinstance(v, float) else v for k, v in c.items()},
            "significant": float(c["p_value"]) < level,
            "sequential_p": round(seq_p, 6),
            "sequential_significant": seq_p < level,
            "sequential_first_crossing_n": first,
        }
    return {
        "metric_type": "binary" if next(iter(arms.values())).binary else "continuous",
        "control": control,
        "arms": {n: _arm_json(a, best[n]) for n, a in arms.items()},
        "verdict": _verdict(arms, control, comparisons, best, alpha),
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
