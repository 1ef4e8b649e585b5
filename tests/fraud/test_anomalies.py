"""Anomaly rules: each fires on its pattern, stays quiet on ordinary accounts, and explains itself."""

from __future__ import annotations

from datetime import UTC, datetime

from services.fraud.anomalies import (
    account_anomalies,
    campaign_anomalies,
    comment_anomalies,
    history_findings,
    series_spikes,
    traffic_burst,
)
from services.fraud.schemas import HistoryRequest
from shared.events import AccountStats, CampaignResultReported


def _account(**overrides: object) -> AccountStats:
    fields: dict[str, object] = {
        "platform": "instagram", "handle": "h", "followers": 20_000, "following": 400, "posts": 300,
        "engagement_rate": 0.018, "avg_likes": 350, "avg_comments": 10, "max_monthly_growth": 0.03,
        "median_monthly_growth": 0.02,
    }  # fmt: skip
    fields.update(overrides)
    return AccountStats.model_validate(fields)


def _kinds(account: AccountStats) -> set[str]:
    return {f.kind for f in account_anomalies(account)}


def test_account_anomalies_quiet_on_ordinary_account() -> None:
    assert account_anomalies(_account()) == []


def test_account_anomalies_flag_growth_spike_with_comparison() -> None:
    [finding] = account_anomalies(_account(max_monthly_growth=0.6))
    assert finding.kind == "growth_spike"
    assert finding.reasons[0].value == 0.6 and finding.reasons[0].reference == 0.02
    assert 0 < finding.severity <= 1


def test_account_anomalies_flag_engagement_far_from_tier_norm() -> None:
    assert "low_engagement" in _kinds(_account(engagement_rate=0.001, avg_likes=19, avg_comments=1))
    assert "high_engagement" in _kinds(_account(engagement_rate=0.2))


def test_account_anomalies_flag_like_comment_ratio_both_ways() -> None:
    assert "like_comment_ratio" in _kinds(_account(avg_likes=300, avg_comments=120))
    assert "like_comment_ratio" in _kinds(_account(avg_likes=5000, avg_comments=1))


def test_series_spikes_finds_the_bought_month() -> None:
    finding = series_spikes([10_000, 10_300, 10_600, 10_900, 16_000, 16_300])
    assert finding is not None and "month 4" in finding.reasons[0].text
    assert series_spikes([10_000, 10_300, 10_600, 10_900, 11_200]) is None


def test_comment_anomalies_flag_generic_comments_and_pods() -> None:
    texts = ["Nice pic!"] * 15 + [f"the light in photo {i} is lovely" for i in range(10)]
    authors = ["a", "b", "c"] * 8 + ["d"]
    kinds = {f.kind for f in comment_anomalies(texts, authors)}
    assert kinds == {"generic_comments", "engagement_pod"}
    organic = [f"comment number {i} about the recipe" for i in range(30)]
    assert comment_anomalies(organic, [f"u{i}" for i in range(30)]) == []


def test_traffic_burst_needs_one_dominant_hour() -> None:
    assert traffic_burst([10, 12, 9, 11, 900, 10, 8]) is not None
    assert traffic_burst([100, 120, 90, 110, 130, 100]) is None


def _result(**overrides: object) -> CampaignResultReported:
    fields: dict[str, object] = {
        "result_id": "r1", "campaign_id": "k1", "creator_id": "c1", "platform": "instagram",
        "format": "post", "market": "US", "reach": 50_000, "engagements": 1_000, "clicks": 500,
        "conversions": 10, "posted_at": datetime(2026, 1, 1, tzinfo=UTC),
    }  # fmt: skip
    fields.update(overrides)
    return CampaignResultReported.model_validate(fields)


def test_campaign_anomalies_clicks_without_conversions_and_ctr() -> None:
    assert campaign_anomalies(_result()) == []
    assert {f.kind for f in campaign_anomalies(_result(conversions=0))} == {"clicks_without_conversions"}
    assert {f.kind for f in campaign_anomalies(_result(clicks=20_000))} == {"traffic_burst"}


def test_history_findings_keep_one_per_kind() -> None:
    history = HistoryRequest.model_validate(
        {
            "monthly_followers": [10_000, 10_300, 10_600, 10_900, 16_000, 16_300],
            "account": _account(max_monthly_growth=0.47).model_dump(),
        }
    )
    kinds = [f.kind for f in history_findings(history)]
    assert kinds.count("growth_spike") == 1
