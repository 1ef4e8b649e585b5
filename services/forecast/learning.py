"""Per-organisation learning on a shared prior: an organisation's own results move its own forecasts only.

The pooled model is the prior. An organisation's offset (per target, in log1p units) is the mean error of
the champion's median on its latest results, shrunk toward 0 by ORG_PRIOR pseudo-results; a creator's
baseline is what is left on the creator's own latest results, shrunk toward 0 by CREATOR_PRIOR, so a
creator with one or two results stays close to the model's norm for its tier (followers, engagement rate,
platform, format). Errors are measured against the current champion re-scored on the posts as published,
so a retrained model starts from its own errors and offsets never compound. Only the asking organisation's
rows are read; the pooled model learns from organisations that opted in (retraining.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlmodel import Session

from services.forecast import training_sets
from services.forecast.forecasting import TARGETS
from shared.onnx_model import OnnxModel

ORG_WINDOW = 500  # the organisation's latest results the offset is measured on (a rolling window)
CREATOR_WINDOW = 20  # a creator's latest results: recent form, not last year's
ORG_PRIOR = 20.0  # an organisation's own offset counts half at 20 results
CREATOR_PRIOR = 5.0  # a creator's own baseline counts half at 5 results

Offsets = Mapping[str, float]


@dataclass(frozen=True)
class Learnt:
    """What one organisation's results taught: its offset and its creators' baselines (log1p units)."""

    org: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TARGETS, 0.0))
    creators: dict[str, dict[str, float]] = field(default_factory=dict)
    results: int = 0

    def offsets(self, creator_id: str | None) -> dict[str, float]:
        own = self.creators.get(creator_id or "", {})
        return {t: self.org[t] + own.get(t, 0.0) for t in TARGETS}

    def shifts(self, creator_ids: Sequence[str | None], n: int) -> dict[str, np.ndarray]:
        """Per target, each of `n` rows' offset (the same figures as `offsets`, vectorised: one look-up per
        distinct creator); `creator_ids` empty when no row names one."""
        if not self.creators or not creator_ids:
            return {t: np.full(n, self.org[t]) for t in TARGETS}
        names, row = np.unique(np.array([c or "" for c in creator_ids]), return_inverse=True)
        own = [self.creators.get(str(c), {}) for c in names]
        return {t: self.org[t] + np.array([o.get(t, 0.0) for o in own])[row] for t in TARGETS}


def shrunk_mean(errors: np.ndarray, prior: float) -> float:
    """The mean error pulled toward 0 as if `prior` results with no error had been seen too."""
    return float(errors.sum() / (len(errors) + prior))


def learnt(session: Session, model: OnnxModel, org_id: str) -> Learnt:
    """The organisation's offset and creator baselines from its latest scored results (none: all zero)."""
    rows = training_sets.rows(session, orgs=[org_id], latest=ORG_WINDOW)
    if not rows:
        return Learnt()
    x, ys = training_sets.arrays(rows)
    creators = np.array([r.creator_id or "" for r in rows])
    org: dict[str, float] = {}
    per: dict[str, dict[str, float]] = {c: {} for c in set(creators) - {""}}
    for t in TARGETS:
        errors = ys[t] - model.run(f"{t}_p50", x, count=False)
        org[t] = shrunk_mean(errors, ORG_PRIOR)
        for c in per:
            per[c][t] = shrunk_mean((errors[creators == c] - org[t])[-CREATOR_WINDOW:], CREATOR_PRIOR)
    return Learnt(org=org, creators=per, results=len(rows))
