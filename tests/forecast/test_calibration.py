"""Calibrated intervals: the conformal shift is baked into the ONNX head, per platform."""

from __future__ import annotations

import numpy as np
import pytest

from services.forecast.calibration import (
    CATEGORY_COLUMNS,
    PLATFORM_COLUMNS,
    bound_shift,
    shifted_head,
    unsaid_shift,
)
from services.forecast.features import FEATURES
from services.forecast.heads import fit_centers
from shared.onnx_model import run_head


def test_shifted_head_adds_each_rows_platform_shift() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, len(FEATURES))).astype(np.float32)
    x[:, PLATFORM_COLUMNS] = 0
    x[:100, PLATFORM_COLUMNS[0]] = 1
    x[100:200, PLATFORM_COLUMNS[1]] = 1  # the last 100 rows have no platform: the pooled shift
    head = fit_centers(x, {"reach": x[:, 0] * 2.0}, max_iter=5)["reach"]
    shifts = [0.5, -0.25, *[0.1] * (len(PLATFORM_COLUMNS) - 2)]
    moved = run_head(shifted_head(head, 0.1, shifts), x) - run_head(head, x)
    np.testing.assert_allclose(moved[:100], 0.5, atol=1e-5)
    np.testing.assert_allclose(moved[100:200], -0.25, atol=1e-5)
    np.testing.assert_allclose(moved[200:], 0.1, atol=1e-5)


def test_bound_shift_puts_the_level_of_misses_on_the_right_side() -> None:
    misses = np.random.default_rng(1).normal(size=2000)
    assert np.mean(misses <= bound_shift(misses)) >= 0.9
    assert np.mean(misses <= bound_shift(misses)) < 0.91


def test_shifted_head_moves_rows_that_do_not_say_their_category_further() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, len(FEATURES))).astype(np.float32)
    x[:, PLATFORM_COLUMNS + CATEGORY_COLUMNS] = 0
    x[:, PLATFORM_COLUMNS[0]] = 1
    x[:100, CATEGORY_COLUMNS[3]] = 1  # the last 100 rows do not say what they are about
    head = fit_centers(x, {"reach": x[:, 0] * 2.0}, max_iter=5)["reach"]
    shifts = [0.5, *[0.1] * (len(PLATFORM_COLUMNS) - 1)]
    moved = run_head(shifted_head(head, 0.1, shifts, unsaid=0.3), x) - run_head(head, x)
    np.testing.assert_allclose(moved[:100], 0.5, atol=1e-5)
    np.testing.assert_allclose(moved[100:], 0.8, atol=1e-5)


def test_unsaid_shift_is_the_shrunk_difference_of_the_two_groups() -> None:
    x = np.zeros((600, len(FEATURES)), dtype=np.float32)
    x[:300, CATEGORY_COLUMNS[0]] = 1
    misses = np.random.default_rng(2).normal(size=600) * np.where(np.arange(600) < 300, 1.0, 2.0)
    said, extra = unsaid_shift(x, misses)
    assert said.sum() == 300 and said[:300].all()
    gap = bound_shift(misses[300:]) - bound_shift(misses[:300])
    assert extra == pytest.approx(gap * 300 / 400) and extra > 0.5  # wider for the unpredictable rows
    assert unsaid_shift(np.zeros((600, len(FEATURES)), dtype=np.float32), misses)[1] == 0.0  # nobody said
