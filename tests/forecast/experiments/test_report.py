"""Experiment reports: per-arm figures, tests, P(best), and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from services.forecast.experiments.plot import difference_band
from services.forecast.experiments.report import TooFewArms, analyze
from services.forecast.experiments.stats import Arm, comparison_alpha, prob_best, sample_size_per_arm


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


def test_sample_size_for_four_arms_uses_the_analysis_correction() -> None:
    # Direct: three comparisons against control at 0.05 / 3 each, two-sided, 80% power.
    z = stats.norm.ppf(1 - 0.05 / 3 / 2) + stats.norm.ppf(0.8)
    direct = math.ceil(z**2 * (0.1 * 0.9 + 0.12 * 0.88) / 0.02**2)
    assert sample_size_per_arm(0.10, 0.02, 0.05, 0.8, arms=4) == direct
    assert 5_100 <= direct <= 5_150  # vs ~3,840 uncorrected
    # The report tests each variant at the same level the sample size assumed.
    groups = {a: np.random.default_rng(i).normal(size=50) for i, a in enumerate("abcd")}
    assert analyze(groups)["verdict"]["alpha"] / 3 == comparison_alpha(0.05, 4)


def test_report_gives_power_and_detectable_effect_per_comparison() -> None:
    rng = np.random.default_rng(3)
    groups = {"a": rng.normal(10, 2, 400), "b": rng.normal(10, 2, 400)}
    c = analyze(groups, mde=0.2)["verdict"]["comparisons"]["b"]
    se = math.sqrt(groups["a"].var(ddof=1) / 400 + groups["b"].var(ddof=1) / 400)
    assert c["mde_80"] == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se, rel=1e-4)
    assert 0.1 < c["power_at_mde"] < 0.5  # 0.2 is well below what 400 per arm can see


def test_recommendation_is_one_clear_action() -> None:
    rng = np.random.default_rng(5)
    clear = analyze({"a": rng.normal(10, 2, 3000), "b": rng.normal(10.6, 2, 3000)})
    assert clear["recommendation"].startswith("Adopt b: +0.")
    small = analyze({"a": rng.normal(10, 2, 150), "b": rng.normal(10, 2, 150)}, mde=0.1)
    assert small["recommendation"].startswith("Keep running: no difference yet")
    assert "per arm" in small["recommendation"]
    none = analyze({"a": rng.normal(10, 2, 3000), "b": rng.normal(10, 2, 3000)}, mde=0.5)
    assert none["recommendation"].startswith("Keep a: no variant differs")


def test_plotted_difference_ends_at_the_reported_difference_and_interval() -> None:
    rng = np.random.default_rng(8)
    groups = {"a": rng.normal(10, 2, 300), "b": rng.normal(10.5, 2, 300)}
    n, diff, lo, hi = difference_band(groups["a"], groups["b"], binary=False)
    c = analyze(groups)["verdict"]["comparisons"]["b"]
    assert n[-1] == 300
    assert (diff[-1], lo[-1], hi[-1]) == pytest.approx(
        (c["diff"], c["diff_ci_low"], c["diff_ci_high"]), abs=1e-5
    )
