"""Risk levels, human-readable reasons and the shipped fraud model on the synthetic world."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.fraud.explanations import GROUPS
from services.fraud.features import primary_account
from services.fraud.scoring import assess, risk_level
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
        "platform": "instagram", "handle": "h", "followers": 20_000, "following": 2_300, "posts": 1_500,
        "engagement_rate": 0.018, "avg_likes": 350, "avg_comments": 15, "max_monthly_growth": 0.03,
        "median_monthly_growth": 0.02,
    }  # fmt: skip
    fields.update(overrides)
    return AccountStats.model_validate(fields)


@pytest.mark.parametrize(
    ("risk", "level"),
    [(0.0, "low"), (0.2999, "low"), (0.3, "medium"), (0.5999, "medium"), (0.6, "high"), (1.0, "high")],
)
def test_risk_level_thresholds_are_inclusive(risk: float, level: str) -> None:
    assert risk_level(risk, medium_from=0.3, high_from=0.6) == level


def test_risk_level_with_equal_thresholds_has_no_medium() -> None:
    assert risk_level(0.49, 0.5, 0.5) == "low"
    assert risk_level(0.5, 0.5, 0.5) == "high"


def test_explain_states_engagement_against_the_tier_median(model: OnnxModel) -> None:
    norm = engagement_norm("instagram", 20_000)
    [a] = assess(model, [_account(engagement_rate=norm * 6)], 0.3, 0.6)
    reason = next(r for r in a.reasons if r.code.startswith("engagement"))
    assert reason.reference == pytest.approx(norm)
    assert f"{norm:.2%} median" in reason.text
    assert "micro instagram" in reason.text
    assert "6.0x" in reason.text


def test_explain_uses_per_view_basis_for_short_video(model: OnnxModel) -> None:
    account = _account(platform="tiktok", engagement_basis="per_view", engagement_rate=0.5)
    [a] = assess(model, [account], 0.3, 0.6)
    assert "per view" in next(r.text for r in a.reasons if r.code.startswith("engagement"))


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"avg_likes": 300, "avg_comments": 200}, "comment_heavy"),
        ({"max_monthly_growth": 0.9}, "growth_spike"),
        ({"engagement_rate": 0.15}, "engagement_too_high"),
        ({"following": 30_000}, "follow_back"),
    ],
)
def test_explain_a_row_risky_through_one_feature_names_it_first(
    model: OnnxModel, overrides: dict[str, object], code: str
) -> None:
    [typical, risky] = assess(model, [_account(), _account(**overrides)], 0.3, 0.6)
    assert risky.risk > typical.risk + 0.1
    assert risky.reasons[0].code == code
    assert risky.reasons[0].direction == -1


def test_explain_never_gives_a_risky_score_only_reassuring_reasons(model: OnnxModel) -> None:
    world = generate_world(1500, seed=31)
    accounts = [
        primary_account([AccountStats.model_validate(a) for a in c.payload["accounts"]])
        for c in world.creators
    ]
    out = assess(model, accounts, 0.3, 0.6)
    risky = [a for a in out if a.risk > 0.5]
    assert len(risky) > 50
    assert all(a.reasons[0].direction == -1 for a in risky)
    assert not any(r.direction == 1 for a in risky for r in a.reasons)
    # And a near-zero risk is never explained by a concern (the contradiction the old rules made).
    assert not any(r.direction == -1 for a in out if a.risk < 0.02 for r in a.reasons)


def test_explain_a_typical_account_says_nothing_stands_out(model: OnnxModel) -> None:
    [a] = assess(model, [_account()], 0.3, 0.6)
    assert [r.direction for r in a.reasons] == [1]
    assert a.confidence == 1.0


def test_missing_counts_are_missing_not_zero(model: OnnxModel) -> None:
    given, missing = assess(model, [_account(), _account(following=None, posts=None)], 0.3, 0.6)
    # Scored as a typical account would be; a 0 would read as "follows nobody, never posted".
    assert missing.risk == pytest.approx(given.risk, abs=0.02)
    [zeros] = assess(model, [_account(following=0, posts=0)], 0.3, 0.6)
    assert zeros.reasons != missing.reasons
    said = [r for r in missing.reasons if r.code.startswith("missing_")]
    assert [r.code for r in said] == ["missing_following", "missing_posts"]
    assert all("not given" in r.text and r.direction == 0 for r in said)
    assert missing.confidence == 0.5 < given.confidence


def test_explanations_score_rows_and_variants_in_one_model_call(model: OnnxModel) -> None:
    calls: list[int] = []
    run = model.run

    def counting(head: str, rows: np.ndarray, count: bool = True) -> np.ndarray:
        calls.append(len(rows))
        return run(head, rows, count)

    model.run = counting  # type: ignore[method-assign]
    try:
        assess(model, [_account(), _account(following=9_000), _account(posts=None)], 0.3, 0.6)
    finally:
        del model.run
    assert calls == [3 * (1 + len(GROUPS))]


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
