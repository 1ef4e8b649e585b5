"""Fake-account features of one profile, the same for Instagram (InstaFake, Kaggle) and Twitter (Cresci).

A feature a source does not carry is NaN, never a guessed value: HistGradientBoosting learns a branch
for missing values and the ONNX export keeps it, so one model serves files of every known format and a
follower sample with partial profiles.
"""

from __future__ import annotations

import math

import numpy as np

from services.fraud.schemas import FollowerProfile

FAKE_FEATURES: list[str] = [
    "log10_followers",
    "log10_following",
    "log10_posts",
    "log_following_per_follower",
    "bio_length",
    "has_profile_pic",
    "is_private",
    "username_digit_share",
    "username_length",
    "has_external_url",
    "fullname_words",
    "fullname_digit_share",
    "name_equals_username",
]

NAN = float("nan")


def _opt(value: float | bool | None) -> float:
    return NAN if value is None else float(value)


def digit_share(text: str) -> float:
    """Share of digits in a name; NaN for an empty name (nothing to measure)."""
    return sum(c.isdigit() for c in text) / len(text) if text else NAN


def count_features(followers: float, following: float, posts: float) -> list[float]:
    """The four count features: logs, so a 10x difference weighs the same at any size."""
    return [
        math.log10(1 + followers),
        math.log10(1 + following),
        math.log10(1 + posts),
        math.log10((1 + following) / (1 + followers)),
    ]


def profile_features(p: FollowerProfile) -> list[float]:
    username_share = p.username_digit_share
    if username_share is None and p.username is not None:
        username_share = digit_share(p.username)
    username_length = p.username_length
    if username_length is None and p.username is not None:
        username_length = len(p.username)
    name_equals = None
    if p.full_name is not None and p.username is not None:
        name_equals = p.full_name.strip().lower() == p.username.lower()
    return [
        *count_features(p.followers, p.following, p.posts),
        _opt(p.bio_length),
        _opt(p.has_profile_pic),
        _opt(p.is_private),
        _opt(username_share),
        _opt(username_length),
        _opt(p.has_external_url),
        _opt(len(p.full_name.split()) if p.full_name is not None else None),
        _opt(digit_share(p.full_name.replace(" ", "")) if p.full_name else None),
        _opt(name_equals),
    ]


def profile_matrix(profiles: list[FollowerProfile]) -> np.ndarray:
    rows = [profile_features(p) for p in profiles]
    return np.array(rows, dtype=np.float32).reshape(-1, len(FAKE_FEATURES))
