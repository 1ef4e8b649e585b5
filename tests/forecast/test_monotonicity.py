"""More followers or a higher engagement rate never lowers the forecast (issue 18 item 1)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from services.forecast.features import FEATURES, PlannedContent
from services.forecast.forecasting import QUANTILES, TARGETS, forecast
from services.forecast.heads import MONOTONE
from shared.model_registry import ModelRegistry
from shared.onnx_model import OnnxModel
from shared.vocabulary import PLATFORMS

REPO = Path(__file__).resolve().parents[2]
FOLLOWERS = np.geomspace(1_000, 5_000_000, 40).astype(int)
RATES = np.linspace(0.002, 0.25, 40)
COUNTS = ("reach", "engagements", "clicks", "conversions")


@pytest.fixture(scope="module")
def model() -> OnnxModel:
    return ModelRegistry(REPO / "models").load_champion("forecast")


def _base(platform: str) -> PlannedContent:
    return PlannedContent(followers=50_000, engagement_rate=0.03, per_view=platform == "tiktok", platform=platform,
                          format="reel", market="US", market_share=0.6, hour=18, weekday=2, paid=False)  # fmt: skip


def _curves(model: OnnxModel, items: list[PlannedContent]) -> dict[str, np.ndarray]:
    out = forecast(model, items)
    return {f"{m.metric}_{q}": np.array([getattr(row[i], q) for row in out])
            for i, m in enumerate(out[0]) if m.metric in COUNTS for q in QUANTILES}  # fmt: skip


@pytest.mark.parametrize("platform", PLATFORMS)
def test_more_followers_never_lowers_the_forecast(model: OnnxModel, platform: str) -> None:
    items = [dataclasses.replace(_base(platform), followers=int(f)) for f in FOLLOWERS]
    for name, curve in _curves(model, items).items():
        assert np.all(np.diff(curve) >= -1e-6 * np.maximum(curve[1:], 1)), f"{platform} {name} falls"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_higher_engagement_rate_never_lowers_the_forecast(model: OnnxModel, platform: str) -> None:
    items = [dataclasses.replace(_base(platform), engagement_rate=float(r)) for r in RATES]
    for name, curve in _curves(model, items).items():
        assert np.all(np.diff(curve) >= -1e-6 * np.maximum(curve[1:], 1)), f"{platform} {name} falls"


def test_targets_are_the_counts_checked() -> None:
    assert set(TARGETS) <= set(COUNTS)


def test_training_constrains_followers_and_engagement_rate() -> None:
    assert [FEATURES[i] for i, c in enumerate(MONOTONE) if c == 1] == [
        "log10_followers",
        "log_engagement_rate",
    ]
