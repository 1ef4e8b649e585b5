"""Forecast features: one-hot platform and format, RU-sphere flag, the order the shipped model expects."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from services.forecast.features import FEATURES, PlannedContent, feature_matrix, feature_row
from shared.model_registry import ModelRegistry
from shared.vocabulary import CATEGORIES, FORMATS, MESSAGE_KINDS, PLATFORMS

REPO = Path(__file__).resolve().parents[2]
BASE = PlannedContent(followers=100_000, engagement_rate=0.03, per_view=True, platform="tiktok", format="reel",
                      market="KZ", market_share=0.4, hour=20, weekday=4, paid=True)  # fmt: skip


def _named(content: PlannedContent) -> dict[str, float]:
    return dict(zip(FEATURES, feature_row(content), strict=True))


def test_feature_row_numeric_features() -> None:
    f = _named(BASE)
    assert f["log10_followers"] == pytest.approx(5.0)
    assert f["log_engagement_rate"] == pytest.approx(math.log(0.03))
    assert (f["per_view_basis"], f["market_audience_share"], f["market_ru_sphere"]) == (
        1.0,
        pytest.approx(0.4),
        1.0,
    )
    assert (f["hour"], f["weekday"], f["paid"]) == (20.0, 4.0, 1.0)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_feature_row_platform_is_one_hot(platform: str) -> None:
    f = _named(replace(BASE, platform=platform))
    hot = [p for p in PLATFORMS if f[f"platform_{p}"] == 1.0]
    assert hot == [platform]
    assert sum(f[f"platform_{p}"] for p in PLATFORMS) == 1.0


@pytest.mark.parametrize("fmt", FORMATS)
def test_feature_row_format_is_one_hot(fmt: str) -> None:
    f = _named(replace(BASE, format=fmt))
    assert [x for x in FORMATS if f[f"format_{x}"] == 1.0] == [fmt]
    assert sum(f[f"format_{x}"] for x in FORMATS) == 1.0


@pytest.mark.parametrize(
    ("market", "flag"), [("RU", 1.0), ("KZ", 1.0), ("UA", 1.0), ("US", 0.0), ("TR", 0.0)]
)
def test_feature_row_flags_ru_sphere_markets(market: str, flag: float) -> None:
    assert _named(replace(BASE, market=market))["market_ru_sphere"] == flag


def test_feature_row_floors_zero_followers_and_engagement() -> None:
    f = _named(replace(BASE, followers=0, engagement_rate=0.0))
    assert f["log10_followers"] == 0.0
    assert f["log_engagement_rate"] == pytest.approx(math.log(1e-5))


def test_feature_matrix_shape() -> None:
    assert feature_matrix([BASE, BASE]).shape == (2, len(FEATURES))
    assert feature_matrix([]).shape == (0, len(FEATURES))


def test_features_match_shipped_forecast_model_card() -> None:
    assert ModelRegistry(REPO / "models").versions("forecast")[-1].features == FEATURES


CONTENT = [f for f in FEATURES if f.startswith(("category_", "message_")) or f in ("on_niche", "off_niche")]


@pytest.mark.parametrize("category", CATEGORIES)
def test_feature_row_category_is_one_hot(category: str) -> None:
    f = _named(replace(BASE, category=category))
    assert [c for c in CATEGORIES if f[f"category_{c}"] == 1.0] == [category]


@pytest.mark.parametrize(("on_niche", "on", "off"), [(True, 1.0, 0.0), (False, 0.0, 1.0), (None, 0.0, 0.0)])
def test_feature_row_niche_says_on_off_or_unknown(on_niche: bool | None, on: float, off: float) -> None:
    f = _named(replace(BASE, category="beauty", on_niche=on_niche))
    assert (f["on_niche"], f["off_niche"]) == (on, off)


@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_feature_row_message_kind_is_one_hot(kind: str) -> None:
    f = _named(replace(BASE, message_kind=kind))
    assert [k for k in MESSAGE_KINDS if f[f"message_{k}"] == 1.0] == [kind]


def test_inputs_stored_before_content_features_load_as_not_said() -> None:
    """ForecastRecord.inputs written before category, niche and message kind existed."""
    old = {"followers": 100_000, "engagement_rate": 0.03, "per_view": True, "platform": "tiktok", "format": "reel",
           "market": "KZ", "market_share": 0.4, "hour": 20, "weekday": 4, "paid": True}  # fmt: skip
    content = PlannedContent(**old)
    assert (content.category, content.on_niche, content.message_kind) == (None, None, None)
    assert all(v == 0.0 for k, v in _named(content).items() if k in CONTENT)
    assert feature_row(content) == feature_row(BASE)
