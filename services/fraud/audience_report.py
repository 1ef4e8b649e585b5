"""The audience report of one creator: classify a follower sample, correct, type, score, explain."""

from __future__ import annotations

import numpy as np

from services.fraud import audience as aq
from services.fraud.anomalies import Finding
from services.fraud.demographics import breakdowns
from services.fraud.features import engagement_vs_norm
from services.fraud.profiles import profile_matrix
from services.fraud.schemas import AudienceOut, AudienceRequest, FakeShareOut
from shared.events import AudienceChecked, Reason, utcnow
from shared.onnx_model import OnnxModel

THRESHOLD = 0.5  # the threshold the card's validation counts were measured at
# Modash treats > 25% fake followers as a reason to avoid a creator (product.md).
AVOID_FAKE_SHARE = 0.25


def error_rates(model: OnnxModel) -> aq.ErrorRates:
    """The classifier's held-out confusion counts on Instagram accounts, from its card."""
    v = model.card.metrics["validation_instagram"]
    return aq.ErrorRates(tp=int(v["tp"]), fn=int(v["fn"]), tn=int(v["tn"]), fp=int(v["fp"]))


def _reasons(est: aq.ShareEstimate, types: dict[str, float], ok: bool) -> list[Reason]:
    if not ok:
        text = (
            f"only {est.n} followers sampled: fake share somewhere in {est.low:.0%}-{est.high:.0%}; "
            f"need {aq.MIN_SAMPLE}+ for a score"
        )
        return [Reason(code="low_confidence", text=text, value=est.n, reference=aq.MIN_SAMPLE, direction=0)]
    direction = -1 if est.estimate > AVOID_FAKE_SHARE else 1
    text = f"fake followers {est.estimate:.0%} (95% {est.low:.0%}-{est.high:.0%}) vs {AVOID_FAKE_SHARE:.0%} avoid-level"
    reason = Reason(
        code="fake_followers", text=text, value=est.estimate, reference=AVOID_FAKE_SHARE, direction=direction
    )
    reasons = [reason]
    mass = types["mass_followers"]
    if mass > 0.2:
        text = f"{mass:.0%} mass followers (following > {aq.MASS_FOLLOWING:,}): they rarely see a post"
        reasons.append(Reason(code="mass_followers", text=text, value=mass, reference=0.2, direction=-1))
    return reasons


def audience_report(model: OnnxModel, body: AudienceRequest) -> AudienceOut:
    proba = model.run("model", profile_matrix(body.followers))
    flagged = proba >= THRESHOLD
    rates = error_rates(model)
    est = aq.corrected_share(int(flagged.sum()), len(proba), rates)
    followers = np.array([p.followers for p in body.followers])
    following = np.array([p.following for p in body.followers])
    types = aq.follower_types(followers, following, flagged)
    ok = aq.confident(est)
    score = None
    if ok:
        engagement = growth = None
        if body.account is not None:
            er, norm = engagement_vs_norm(body.account)
            engagement = aq.engagement_authenticity(er / norm)
            growth = aq.growth_naturalness(
                body.account.max_monthly_growth, body.account.median_monthly_growth
            )
        score = aq.quality_score(est.estimate, types["mass_followers"], engagement, growth)
    return AudienceOut(
        creator_id=body.creator_id,
        breakdowns=breakdowns(body.followers),
        state="ready" if ok else "low_confidence",
        sample_size=est.n,
        fake_share=FakeShareOut(
            apparent=round(est.apparent, 4),
            estimate=round(est.estimate, 4) if ok else None,
            low=round(est.low, 4),
            high=round(est.high, 4),
        ),
        follower_types=types,
        audience_quality_score=score,
        reasons=_reasons(est, types, ok),
        correction={
            "sensitivity": round(rates.sensitivity, 4),
            "specificity": round(rates.specificity, 4),
            "validation_fakes": rates.tp + rates.fn,
            "validation_real": rates.tn + rates.fp,
        },
        model_name=model.name,
        model_version=model.version,
    )


def checked_event(report: AudienceOut, body: AudienceRequest, check_id: str) -> AudienceChecked:
    """What discovery's audience report shows of this check (published when the check names a creator)."""
    assert report.creator_id is not None
    now = utcnow()
    share = report.fake_share
    return AudienceChecked(
        check_id=check_id, creator_id=report.creator_id, state=report.state, sample_size=report.sample_size,
        fake_share=share.estimate, fake_share_low=share.low, fake_share_high=share.high,
        follower_types=report.follower_types, audience_quality_score=report.audience_quality_score,
        breakdowns=report.breakdowns, model_name=report.model_name, model_version=report.model_version,
        measured_at=body.sampled_at or now, checked_at=now,
    )  # fmt: skip


def audience_findings(report: AudienceOut) -> list[Finding]:
    """A confident fake share whose whole interval is above the avoid level is an anomaly to review."""
    share = report.fake_share
    if report.state != "ready" or share.estimate is None or share.low <= AVOID_FAKE_SHARE:
        return []
    severity = round(min(1.0, 0.3 + (share.estimate - AVOID_FAKE_SHARE) * 2), 3)
    return [Finding("fake_followers", severity, [r for r in report.reasons if r.code == "fake_followers"])]
