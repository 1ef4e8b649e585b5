"""Bulk scoring from a columnar body: parse once, validate and compute features as arrays, one ORT call.

Per-row Python objects are what makes bulk endpoints slow (performance.md), so nothing here loops over
rows except to name the bad ones. Bad rows are reported with the field and scored as null; the rest
are scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from services.fraud.features import FEATURES, TYPICAL
from shared.errors import Invalid
from shared.norms import BASE_ENGAGEMENT_AT_5K, SIZE_EXPONENT
from shared.onnx_model import OnnxModel
from shared.vocabulary import SHORT_VIDEO_PLATFORMS

REQUIRED = ("platform", "followers", "engagement_rate")
OPTIONAL = ("following", "posts", "avg_likes", "avg_comments", "max_monthly_growth", "median_monthly_growth")
MAY_BE_MISSING = ("following", "posts")
NON_NEGATIVE = ("followers", "following", "posts", "engagement_rate", "avg_likes", "avg_comments")
MAX_ROWS = 1_000_000
MAX_REPORTED_ERRORS = 1000


@dataclass
class Columns:
    n: int
    values: dict[str, np.ndarray]
    platform: np.ndarray
    bad: np.ndarray
    errors: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, rows: np.ndarray, name: str, reason: str) -> None:
        """Mark rows bad; name them (up to a cap) with the field and why."""
        new = rows & ~self.bad
        self.bad |= rows
        for i in np.flatnonzero(new)[: MAX_REPORTED_ERRORS - len(self.errors)]:
            self.errors.append({"row": int(i), "field": name, "reason": reason})


def _numeric(name: str, raw: list[Any], cols: Columns) -> np.ndarray:
    arr = np.asarray(raw)
    if arr.dtype.kind in "iuf" and arr.ndim == 1:
        return arr.astype(np.float64)
    # Mixed or non-numeric column: fall back to a per-value check so the bad rows can be named.
    ok = np.array([isinstance(v, int | float) and not isinstance(v, bool) for v in raw])
    cols.reject(~ok, name, "must be a number")
    return np.array([float(v) if good else 0.0 for v, good in zip(raw, ok, strict=True)])


def _absent(name: str, n: int) -> np.ndarray:
    """A column not sent: counts are unknown (NaN, scored as typical like `features.account_features`),
    the rest 0 as their schema defaults say."""
    return np.full(n, np.nan) if name in MAY_BE_MISSING else np.zeros(n)


def parse(body: Any) -> Columns:
    """`{"columns": {"platform": [...], "followers": [...], ...}}` -> validated arrays and bad rows; the
    body as bytes, or the document the input limits parsed from them (shared.input_limits.json_body)."""
    try:
        doc = orjson.loads(body) if isinstance(body, bytes) else body
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"body is not JSON: {exc}", field="body") from exc
    columns = doc.get("columns") if isinstance(doc, dict) else None
    if not isinstance(columns, dict):
        raise Invalid("body must be {'columns': {name: [values]}}", field="columns")
    for name in REQUIRED:
        if not isinstance(columns.get(name), list):
            raise Invalid(f"column {name!r} is required (a list)", field=f"columns.{name}")
    n = len(columns["platform"])
    if not 0 < n <= MAX_ROWS:
        raise Invalid(f"between 1 and {MAX_ROWS:,} rows", field="columns.platform")
    for name, col in columns.items():
        if name not in (*REQUIRED, *OPTIONAL, "creator_id"):
            raise Invalid(f"unknown column {name!r}", field=f"columns.{name}")
        if not isinstance(col, list) or len(col) != n:
            raise Invalid(f"column {name!r} must be a list of {n} values", field=f"columns.{name}")
    cols = Columns(
        n=n, values={}, platform=np.asarray(columns["platform"], dtype=object), bad=np.zeros(n, bool)
    )
    for name in (*REQUIRED[1:], *OPTIONAL):
        raw = columns.get(name)
        cols.values[name] = _absent(name, n) if raw is None else _numeric(name, raw, cols)
    _check_values(cols)
    return cols


def _check_values(cols: Columns) -> None:
    for name, arr in cols.values.items():
        unknown = np.isnan(arr) if name in MAY_BE_MISSING else np.zeros(len(arr), bool)
        cols.reject(~np.isfinite(arr) & ~unknown, name, "must be a finite number")
        if name in NON_NEGATIVE:
            cols.reject(arr < 0, name, "must not be negative")
    cols.reject(cols.values["engagement_rate"] > 1, "engagement_rate", "is a fraction: at most 1")
    known = np.isin(cols.platform, list(BASE_ENGAGEMENT_AT_5K))
    cols.reject(~known, "platform", f"must be one of {', '.join(BASE_ENGAGEMENT_AT_5K)}")


def _typical_if_unknown(values: np.ndarray, feature: str) -> np.ndarray:
    return np.where(np.isnan(values), TYPICAL[feature], values)


def features(cols: Columns) -> np.ndarray:
    """The columns as the fraud_risk feature matrix: the same numbers as `features.account_features`."""
    v = cols.values
    followers = v["followers"]
    base = np.array([BASE_ENGAGEMENT_AT_5K.get(p, 0.02) for p in cols.platform])
    norm = base * (np.maximum(followers, 1000.0) / 5000.0) ** SIZE_EXPONENT
    interactions = v["avg_likes"] + v["avg_comments"]
    spike = v["max_monthly_growth"] / np.maximum(v["median_monthly_growth"], 0.005)
    with np.errstate(divide="ignore", invalid="ignore"):
        comment_share = np.where(interactions > 0, v["avg_comments"] / interactions, np.nan)
        x = np.column_stack(
            [
                np.log10(np.maximum(followers, 1)),
                _typical_if_unknown(
                    np.minimum(v["following"] / np.maximum(followers, 1), 50.0), "following_per_follower"
                ),
                np.log(np.maximum(v["engagement_rate"], 1e-5) / norm),
                comment_share,
                np.log(np.maximum(spike, 1e-3)),
                v["max_monthly_growth"],
                _typical_if_unknown(np.log10(np.maximum(v["posts"], 1)), "log10_posts"),
                np.isin(cols.platform, list(SHORT_VIDEO_PLATFORMS)).astype(float),
            ]
        )
    assert x.shape[1] == len(FEATURES)
    return x.astype(np.float32)


def score(model: OnnxModel, cols: Columns, medium_from: float, high_from: float) -> bytes:
    """Score the good rows in one call; return the columnar JSON response (null for bad rows)."""
    good = ~cols.bad
    risk = np.full(cols.n, np.nan)
    if good.any():
        risk[good] = model.run("model", features(cols)[good])
    level = np.where(risk >= high_from, "high", np.where(risk >= medium_from, "medium", "low"))
    level = np.where(good, level, "unknown")
    # orjson writes NaN as null: bad rows come back as null without a per-row pass.
    return orjson.dumps(
        {
            "model_name": model.name,
            "model_version": model.version,
            "rows": cols.n,
            "scored": int(good.sum()),
            "rejected": int(cols.bad.sum()),
            "risk": np.round(risk, 4).tolist(),
            "level": level.tolist(),
            "errors": cols.errors,
        }
    )
