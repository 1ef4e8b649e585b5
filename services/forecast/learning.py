"""Per-organisation learning on a shared prior: an organisation's own results move its own forecasts only.

The pooled model is the prior. An organisation's offset (per target, in log1p units) is the mean error of
the champion's median on its latest results, shrunk toward 0 by ORG_PRIOR pseudo-results; a creator's
baseline is what is left on the creator's own latest results, shrunk toward 0 by CREATOR_PRIOR, so a
creator with one or two results stays close to the model's norm for its tier (followers, engagement rate,
platform, format). A message variant's offset is what is left on the results of posts that carried it,
after the organisation's offset and each creator's baseline, shrunk toward 0 by VARIANT_PRIOR: the model
knows the message's declared kind (offer, product, story), the variant's own results say how this very
message does. Variant ids are the client's, unique within a campaign, so a variant is keyed by campaign
and variant id (`variant_key`). Errors are measured against the current champion re-scored on the posts as published,
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
from services.forecast.training_sets import variant_key as variant_key  # callers key offsets with it
from shared.onnx_model import OnnxModel

ORG_WINDOW = 500  # the organisation's latest results the offset is measured on (a rolling window)
CREATOR_WINDOW = 20  # a creator's latest results: recent form, not last year's
ORG_PRIOR = 20.0  # an organisation's own offset counts half at 20 results
CREATOR_PRIOR = 5.0  # a creator's own baseline counts half at 5 results
VARIANT_WINDOW = 50  # a message's latest results (one campaign's posts of it)
VARIANT_PRIOR = 5.0  # a message's own offset counts half at 5 results, like a creator's

Offsets = Mapping[str, float]


@dataclass(frozen=True)
class Learnt:
    """What one organisation's results taught: its offset, its creators' baselines and its messages' offsets
    (log1p units)."""

    org: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TARGETS, 0.0))
    creators: dict[str, dict[str, float]] = field(default_factory=dict)
    results: int = 0
    variants: dict[str, dict[str, float]] = field(default_factory=dict)  # variant_key -> offsets
    org_id: str = ""  # whose results these are

    def offsets(self, creator_id: str | None, variant: str | None = None) -> dict[str, float]:
        """Per target, what is added to the pooled model for this creator and message (`variant_key`)."""
        own = self.creators.get(creator_id or "", {})
        message = self.variants.get(variant or "", {})
        return {t: self.org[t] + own.get(t, 0.0) + message.get(t, 0.0) for t in TARGETS}

    def shifts(
        self, creator_ids: Sequence[str | None], n: int, variants: Sequence[str | None] = ()
    ) -> dict[str, np.ndarray]:
        """Per target, each of `n` rows' offset (the same figures as `offsets`, vectorised: one look-up per
        distinct creator and message); `creator_ids` / `variants` empty when no row names one."""
        out = {t: np.full(n, self.org[t]) for t in TARGETS}
        for table, keys in ((self.creators, creator_ids), (self.variants, variants)):
            if not table or not keys:
                continue
            names, row = np.unique(np.array([k or "" for k in keys]), return_inverse=True)
            own = [table.get(str(k), {}) for k in names]
            for t in TARGETS:
                out[t] = out[t] + np.array([o.get(t, 0.0) for o in own])[row]
        return out


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
    variants = np.array([r.variant or "" for r in rows])
    org: dict[str, float] = {}
    per: dict[str, dict[str, float]] = {c: {} for c in set(creators) - {""}}
    message: dict[str, dict[str, float]] = {v: {} for v in set(variants) - {""}}
    for t in TARGETS:
        errors = ys[t] - model.run(f"{t}_p50", x, count=False)
        org[t] = shrunk_mean(errors, ORG_PRIOR)
        left = errors - org[t]  # what the organisation's offset does not explain
        for c in per:
            per[c][t] = shrunk_mean(left[creators == c][-CREATOR_WINDOW:], CREATOR_PRIOR)
        left -= np.array([per.get(c, {}).get(t, 0.0) for c in creators])  # nor the creator's own baseline
        for v in message:
            message[v][t] = shrunk_mean(left[variants == v][-VARIANT_WINDOW:], VARIANT_PRIOR)
    return Learnt(org=org, creators=per, results=len(rows), variants=message, org_id=org_id)
