"""Risk levels, human-readable reasons and the shipped fraud model on the synthetic world."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.fraud.features import primary_account
from services.fraud.scoring import assess, explain, risk_level
from shared.events import AccountStats
from shared.model_registry import ModelRegistry
from shared.norms import engagement_norm
from shared.onnx_model import OnnxModel
from tandem.synthetic import generate_world

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return ModelRegistry(REPO / "models").load_champion("fraud_risk")


def _account(**overrides: object) -> AccountStats:
    fields: dict[str, object] = {
        "platform": "instagram", "handle": "h", "followers": 20_000, "following": 400, "posts": 300,
        "engagement_rate": 0.018, "avg_likes": 350, "avg_comments": 10, "max_monthly_growth": 0.03,
        "median_monthly_growth": 0.02,
    }  # fmt: skip
    fields.update(overrides)
    return AccountStats.model_validate(fields)


def _codes(account: AccountStats) -> list[str]:
    return [r.code for r in explain(account)]


@pytest.mark.parametrize(
    ("risk", "level"),
    [(0.0, "low"), (0.2999, "low"), (0.3, "medium"), (0.5999, "medium"), (0.6, "high"), (1.0, "high")],
)
def test_risk_level_thresholds_are_inclusive(risk: float, level: str) -> None:
    assert risk_level(risk, medium_from=0.3, high_from=0.6) == level


def test_risk_level_with_equal_thresholds_has_no_medium() -> None:
    assert risk_level(0.49, 0.5, 0.5) == "low"
    assert risk_level(0.5, 0.5, 0.5) == "high"


def test_explain_low_engagement_mentions_median_and_tier() -> None:
    account = _account(engagement_rate=0.002)
    norm = engagement_norm("instagram", 20_000)
    reason = explain(account)[0]
    assert reason.code == "low_engagement"
    assert reason.direction == -1
    assert reason.value == pytest.approx(0.002)
    assert reason.reference == pytest.approx(norm)
    assert f"{norm:.2%} median" in reason.text
    assert "micro instagram" in reason.text
    assert "0.20% per follower" in reason.text


def test_explain_uses_per_view_basis_for_short_video() -> None:
    account = _account(platform="tiktok", engagement_basis="per_view", engagement_rate=0.001)
    assert "per view" in explain(account)[0].text


def test_explain_normal_engagement_supports_the_creator() -> None:
    account = _account(engagement_rate=engagement_norm("instagram", 20_000))
    reasons = explain(account)
    assert [r.code for r in reasons] == ["engagement_normal"]
    assert reasons[0].direction == 1


def test_explain_too_high_engagement_gives_ratio() -> None:
    norm = engagement_norm("instagram", 20_000)
    reason = explain(_account(engagement_rate=norm * 4))[0]
    assert reason.code == "engagement_too_high"
    assert "4.0x" in reason.text


def test_explain_growth_spike_appears_for_a_spike() -> None:
    reasons = {r.code: r for r in explain(_account(max_monthly_growth=0.5, median_monthly_growth=0.02))}
    spike = reasons["growth_spike"]
    assert "50%" in spike.text
    assert "2.0%" in spike.text
    assert (spike.value, spike.reference, spike.direction) == (0.5, 0.02, -1)


def test_explain_no_growth_spike_for_small_or_typical_growth() -> None:
    assert "growth_spike" not in _codes(_account(max_monthly_growth=0.12, median_monthly_growth=0.005))
    assert "growth_spike" not in _codes(_account(max_monthly_growth=0.4, median_monthly_growth=0.2))


def test_explain_comment_heavy_interactions() -> None:
    reasons = {r.code: r for r in explain(_account(avg_likes=700, avg_comments=300))}
    assert "30% of interactions" in reasons["comment_heavy"].text


def test_explain_follow_back_pattern() -> None:
    reasons = {r.code: r for r in explain(_account(following=15_000))}
    assert reasons["follow_back"].text == "follows 15,000 accounts for 20,000 followers"
    assert "follow_back" not in _codes(_account(followers=900, following=800))


def test_assess_scores_in_batch_with_levels_and_model_version(model: OnnxModel) -> None:
    accounts = [_account(), _account(engagement_rate=0.001, max_monthly_growth=0.9, following=30_000)]
    out = assess(model, accounts, medium_from=0.3, high_from=0.6)
    assert len(out) == 2
    for a in out:
        assert 0 <= a.risk <= 1
        assert a.risk == round(a.risk, 4)
        assert a.level == risk_level(a.risk, 0.3, 0.6)
        assert (a.model_name, a.model_version) == ("fraud_risk", "1")
        assert a.reasons
    assert out[1].risk > out[0].risk


def test_assess_empty_batch_returns_empty(model: OnnxModel) -> None:
    assert assess(model, [], 0.3, 0.6) == []


def test_shipped_model_scores_fraud_riskier_than_normal_on_synthetic_world(model: OnnxModel) -> None:
    world = generate_world(2000, seed=123)
    accounts = [
        primary_account([AccountStats.model_validate(a) for a in c.payload["accounts"]])
        for c in world.creators
    ]
    risks = np.array([a.risk for a in assess(model, accounts, 0.3, 0.6)])
    kind = np.array([c.fraud_kind for c in world.creators])
    fraud = np.array([c.is_fraud for c in world.creators])
    assert fraud.sum() > 100
    assert risks[fraud].mean() > risks[~fraud].mean() + 0.4
    assert risks[kind == "bought_followers"].mean() > risks[kind == "none"].mean() + 0.4
    # Few honest creators are flagged high.
    assert np.mean(risks[~fraud] >= 0.6) < 0.05
