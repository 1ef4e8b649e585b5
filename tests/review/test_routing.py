"""Who decides: people for strategic campaigns and uncertain cases, the policy for confident volume ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.review.routing import Policy, in_audit_sample, route
from shared.events import CreatorSnapshot, ShortlistEntry

POLICY = Policy(auto_approve_min_match=0.85, auto_approve_max_fraud=0.25, auto_reject_min_fraud=0.7,
                audit_sample_rate=0.1)  # fmt: skip


def _entry(match: float, risk: float | None) -> ShortlistEntry:
    creator = CreatorSnapshot(creator_id="cr-1", name="Ann", home_market="US", platform="instagram",
                              followers=20_000, engagement_rate=0.02)  # fmt: skip
    return ShortlistEntry(rank=1, creator=creator, match_score=match, fraud_risk=risk, reasons=[],
                          data_as_of=datetime.now(UTC))  # fmt: skip


@pytest.mark.parametrize(("match", "risk"), [(0.99, 0.01), (0.1, 0.99), (0.5, None)])
def test_route_strategic_always_goes_to_people(match: float, risk: float | None) -> None:
    r = route(_entry(match, risk), "strategic", POLICY)
    assert (r.kind, r.decision) == ("human", None)
    assert "strategic" in r.reason


def test_route_volume_without_fraud_score_goes_to_people() -> None:
    r = route(_entry(0.99, None), "volume", POLICY)
    assert (r.kind, r.decision) == ("human", None)
    assert r.reason == "not yet scored for fraud"


@pytest.mark.parametrize("risk", [0.7, 0.95])
def test_route_volume_high_fraud_is_auto_rejected(risk: float) -> None:
    r = route(_entry(0.99, risk), "volume", POLICY)
    assert (r.kind, r.decision) == ("auto", "reject")
    assert r.reason == f"fraud risk {risk:.2f} >= 0.70"


@pytest.mark.parametrize(("match", "risk"), [(0.9, 0.1), (0.85, 0.25)])
def test_route_volume_confident_is_auto_approved(match: float, risk: float) -> None:
    r = route(_entry(match, risk), "volume", POLICY)
    assert (r.kind, r.decision) == ("auto", "approve")
    assert r.reason.startswith(f"confident: match {match:.2f} >= 0.85")


@pytest.mark.parametrize(("match", "risk"), [(0.5, 0.1), (0.8499, 0.0), (0.95, 0.26), (0.95, 0.69)])
def test_route_volume_uncertain_goes_to_people(match: float, risk: float) -> None:
    r = route(_entry(match, risk), "volume", POLICY)
    assert (r.kind, r.decision) == ("human", None)
    assert r.reason.startswith("uncertain:")


def test_in_audit_sample_is_deterministic() -> None:
    draws = [in_audit_sample("cmp-1", f"cr-{i}", 0.3) for i in range(200)]
    assert draws == [in_audit_sample("cmp-1", f"cr-{i}", 0.3) for i in range(200)]
    assert any(draws) and not all(draws)


def test_in_audit_sample_depends_on_campaign_and_creator() -> None:
    a = [in_audit_sample("cmp-a", f"cr-{i}", 0.5) for i in range(200)]
    b = [in_audit_sample("cmp-b", f"cr-{i}", 0.5) for i in range(200)]
    assert a != b


@pytest.mark.parametrize("rate", [0.05, 0.1, 0.5])
def test_in_audit_sample_rate_matches_over_many_keys(rate: float) -> None:
    hits = sum(in_audit_sample(f"cmp-{i % 37}", f"cr-{i}", rate) for i in range(10_000))
    assert abs(hits / 10_000 - rate) < 0.02


def test_in_audit_sample_extreme_rates() -> None:
    assert not any(in_audit_sample("c", f"cr-{i}", 0.0) for i in range(500))
    assert all(in_audit_sample("c", f"cr-{i}", 1.0) for i in range(500))


def test_in_audit_sample_is_monotone_in_rate() -> None:
    for i in range(300):
        if in_audit_sample("c", f"cr-{i}", 0.1):
            assert in_audit_sample("c", f"cr-{i}", 0.2)
