"""Experiment reports: per-arm figures, tests, P(best), and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from services.forecast.experiments.report import TooFewArms, analyze
from services.forecast.experiments.stats import Arm, prob_best, sample_size_per_arm


def _rate_arm(n: int, successes: int) -> Arm:
    p = successes / n
    return Arm(n=n, mean=p, var=p * (1 - p), binary=True)


def test_prob_best_matches_published_cookie_cats_bootstrap_at_full_size() -> None:
    # Full data (README): gate_30 20,034/44,700 and gate_40 20,119/45,489 retained on day 1; 8,502 / 8,279 on day 7.
    day1 = prob_best({"gate_30": _rate_arm(44_700, 20_034), "gate_40": _rate_arm(45_489, 20_119)})
    day7 = prob_best({"gate_30": _rate_arm(44_700, 8_502), "gate_40": _rate_arm(45_489, 8_279)})
    assert day1["gate_30"] == pytest.approx(0.966, abs=0.01)
    assert day7["gate_30"] == pytest.approx(0.998, abs=0.01)


def test_analyze_reports_every_arm_with_interval_around_mean() -> None:
    rng = np.random.default_rng(0)
    groups = {"a": rng.normal(10, 2, 400), "b": rng.normal(11, 2, 400), "c": rng.normal(10, 2, 400)}
    report = analyze(groups, control="a")
    assert set(report["arms"]) == {"a", "b", "c"}
    for arm in report["arms"].values():
        assert arm["ci_low"] < arm["mean"] < arm["ci_high"]
    assert sum(a["prob_best"] for a in report["arms"].values()) == pytest.approx(1.0, abs=1e-6)
    assert report["verdict"]["most_likely_best"] == "b"
    assert report["verdict"]["comparisons"]["b"]["test"] == "welch_t"
    assert report["verdict"]["comparisons"]["b"]["significant"]


def test_analyze_with_one_arm_is_refused() -> None:
    with pytest.raises(TooFewArms, match="at least two arms"):
        analyze({"only": np.ones(10)})


def test_analyze_with_unknown_control_names_the_arms() -> None:
    with pytest.raises(ValueError, match="arms: a, b"):
        analyze({"a": np.ones(10), "b": np.zeros(10)}, control="z")


def test_sample_size_for_rates_matches_textbook_value() -> None:
    # 10% -> 12%, alpha 0.05, power 0.8: the usual tables give ~3,840 per arm.
    assert 3_800 <= sample_size_per_arm(0.10, 0.02, 0.05, 0.8) <= 3_900
