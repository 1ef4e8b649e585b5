"""Risk score, level and reasons for creators, from the fraud model and the published norms."""

from __future__ import annotations

from dataclasses import dataclass

from services.fraud.features import engagement_vs_norm, feature_matrix
from shared.events import AccountStats, Reason
from shared.onnx_model import OnnxModel
from shared.vocabulary import RiskLevel, follower_tier


@dataclass(frozen=True)
class Assessment:
    risk: float
    level: RiskLevel
    reasons: list[Reason]
    model_name: str
    model_version: str


def risk_level(risk: float, medium_from: float, high_from: float) -> RiskLevel:
    if risk >= high_from:
        return "high"
    return "medium" if risk >= medium_from else "low"


def explain(account: AccountStats) -> list[Reason]:
    """The evidence behind a score, each figure next to the comparison that gives it meaning."""
    er, norm = engagement_vs_norm(account)
    tier = follower_tier(account.followers)
    basis = "per view" if account.engagement_basis == "per_view" else "per follower"
    reasons: list[Reason] = []
    ratio = er / norm
    if ratio < 0.5:
        text = f"engagement {er:.2%} {basis} vs {norm:.2%} median for {tier} {account.platform} creators"
        reasons.append(Reason(code="low_engagement", text=text, value=er, reference=norm, direction=-1))
    elif ratio > 2.5:
        text = (
            f"engagement {er:.2%} {basis} is {ratio:.1f}x the {norm:.2%} median for {tier} {account.platform}"
        )
        reasons.append(Reason(code="engagement_too_high", text=text, value=er, reference=norm, direction=-1))
    else:
        text = f"engagement {er:.2%} {basis} is in line with the {norm:.2%} {tier} {account.platform} median"
        reasons.append(Reason(code="engagement_normal", text=text, value=er, reference=norm, direction=1))
    spike = account.max_monthly_growth / max(account.median_monthly_growth, 0.005)
    if account.max_monthly_growth > 0.15 and spike > 5:
        text = f"follower growth spike of {account.max_monthly_growth:.0%} in one month vs typical {account.median_monthly_growth:.1%}"
        reasons.append(
            Reason(
                code="growth_spike",
                text=text,
                value=account.max_monthly_growth,
                reference=account.median_monthly_growth,
                direction=-1,
            )
        )
    interactions = account.avg_likes + account.avg_comments
    if interactions > 0 and account.avg_comments / interactions > 0.1:
        share = account.avg_comments / interactions
        text = f"comments are {share:.0%} of interactions vs 2-6% typical (possible engagement pod)"
        reasons.append(Reason(code="comment_heavy", text=text, value=share, reference=0.06, direction=-1))
    following_ratio = account.following / max(account.followers, 1)
    if following_ratio > 0.5 and account.followers > 1000:
        text = f"follows {account.following:,} accounts for {account.followers:,} followers"
        reasons.append(
            Reason(code="follow_back", text=text, value=following_ratio, reference=0.05, direction=-1)
        )
    return reasons


def assess(
    model: OnnxModel, accounts: list[AccountStats], medium_from: float, high_from: float
) -> list[Assessment]:
    """Score accounts in one batch and explain each score."""
    risks: list[float] = model.run("model", feature_matrix(accounts)).tolist() if accounts else []
    return [
        Assessment(
            risk=round(float(r), 4),
            level=risk_level(float(r), medium_from, high_from),
            reasons=explain(a),
            model_name=model.name,
            model_version=model.version,
        )
        for a, r in zip(accounts, risks, strict=True)
    ]
