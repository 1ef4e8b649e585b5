"""Brief x creator fit and the ranking model's feature row on a hand-built creator."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from services.discovery.features import FEATURES, best_account, feature_matrix, feature_row, fit
from services.discovery.schemas import BriefIn, CreatorIn
from shared.model_registry import ModelRegistry

REPO = Path(__file__).resolve().parents[2]
IG_NORM_50K = 0.022 * (50_000 / 5_000) ** -0.2


def _brief(**overrides: Any) -> BriefIn:
    fields: dict[str, Any] = {"name": "b", "category": "beauty", "target_markets": ["US", "GB"],
                              "platforms": ["instagram"], "languages": ["en"], "budget_usd": 10_000}  # fmt: skip
    return BriefIn.model_validate({**fields, **overrides})


def _creator(**overrides: Any) -> CreatorIn:
    fields: dict[str, Any] = {
        "creator_id": "cr-1", "name": "Ann", "home_market": "US", "languages": ["en"],
        "categories": ["beauty", "fashion"], "price_usd": 1_000,
        "accounts": [
            {"platform": "instagram", "handle": "ann", "followers": 50_000, "engagement_rate": 0.02},
            {"platform": "tiktok", "handle": "ann.tt", "followers": 200_000, "engagement_rate": 0.05,
             "engagement_basis": "per_view"},
        ],
        "audience": [
            {"market": "US", "audience_share": 0.5, "engagement_rate": 0.03},
            {"market": "GB", "audience_share": 0.2, "engagement_rate": 0.01},
            {"market": "RU", "audience_share": 0.3, "engagement_rate": 0.04},
        ],
    }  # fmt: skip
    return CreatorIn.model_validate({**fields, **overrides})


def _named(row: list[float]) -> dict[str, float]:
    return dict(zip(FEATURES, row, strict=True))


def test_best_account_prefers_wanted_platform_over_size() -> None:
    assert best_account(_brief(), _creator()).platform == "instagram"


def test_best_account_falls_back_to_largest_overall() -> None:
    assert best_account(_brief(platforms=["youtube"]), _creator()).platform == "tiktok"


def test_fit_on_hand_built_creator() -> None:
    f = fit(_brief(), _creator(), shortlist_size=5)
    assert f.account.handle == "ann"
    assert f.target_share == pytest.approx(0.7)
    assert f.target_er == pytest.approx((0.03 * 0.5 + 0.01 * 0.2) / 0.7)
    assert f.norm == pytest.approx(IG_NORM_50K)
    assert f.markets_above_norm == ["US"]  # RU engages best but is not a target market
    assert (f.platform_match, f.category_match, f.language_match) == (True, True, True)
    assert f.price_per_slot == pytest.approx(1_000 / (10_000 / 5))


def test_fit_platform_mismatch_when_no_wanted_platform() -> None:
    brief = _brief(platforms=["youtube", "vk"])
    f = fit(brief, _creator(), 5)
    assert f.platform_match is False
    assert _named(feature_row(brief, f, 0.1))["platform_match"] == 0.0
    assert _named(feature_row(brief, f, 0.1))["log10_followers"] == pytest.approx(math.log10(200_000))


def test_fit_category_mismatch() -> None:
    assert fit(_brief(category="gaming"), _creator(), 5).category_match is False


def test_fit_language_match_rules() -> None:
    assert fit(_brief(languages=[]), _creator(), 5).language_match is True
    assert fit(_brief(languages=["de"]), _creator(), 5).language_match is False


def test_fit_without_budget_or_price_has_no_price_ratio() -> None:
    assert fit(_brief(budget_usd=None), _creator(), 5).price_per_slot is None
    assert fit(_brief(), _creator(price_usd=None), 5).price_per_slot is None


def test_feature_row_on_hand_built_creator() -> None:
    brief = _brief()
    row = _named(feature_row(brief, fit(brief, _creator(), 5), fraud_risk=0.12))
    target_er = (0.03 * 0.5 + 0.01 * 0.2) / 0.7
    assert row["target_share"] == pytest.approx(0.7)
    assert row["log_target_er_vs_norm"] == pytest.approx(math.log(target_er / IG_NORM_50K))
    assert row["target_markets_above_norm"] == pytest.approx(0.5)
    assert row["log10_followers"] == pytest.approx(math.log10(50_000))
    assert (row["platform_match"], row["category_match"], row["language_match"]) == (1.0, 1.0, 1.0)
    assert row["fraud_risk"] == pytest.approx(0.12)
    assert row["log_price_vs_budget"] == pytest.approx(math.log(0.5))


def test_feature_row_uses_nan_for_unknowns() -> None:
    brief = _brief(target_markets=["BR"], budget_usd=None, category="auto")
    f = fit(brief, _creator(), 5)
    row = _named(feature_row(brief, f, fraud_risk=None))
    assert f.target_share == 0.0
    assert math.isnan(row["log_target_er_vs_norm"])
    assert math.isnan(row["fraud_risk"])
    assert math.isnan(row["log_price_vs_budget"])
    assert (row["target_share"], row["target_markets_above_norm"], row["category_match"]) == (0.0, 0.0, 0.0)


def test_feature_matrix_shape() -> None:
    brief = _brief()
    f = fit(brief, _creator(), 5)
    x = feature_matrix([feature_row(brief, f, 0.1)] * 3)
    assert x.shape == (3, len(FEATURES))
    assert feature_matrix([]).shape == (0, len(FEATURES))


def test_features_match_shipped_ranking_model_card() -> None:
    assert ModelRegistry(REPO / "models").versions("ranking")[-1].features == FEATURES
