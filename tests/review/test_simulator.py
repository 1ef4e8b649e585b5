"""The policy simulator against a direct calculation, for 50 campaigns a month and a given team."""

from __future__ import annotations

import pytest

from services.review.simulator import SimulationIn, TeamMember, mix_table, simulate


def test_simulate_fifty_campaigns_matches_a_direct_calculation() -> None:
    team = [
        TeamMember(count=3, daily_capacity=30),
        TeamMember(count=4, daily_capacity=15, employment="freelance"),
    ]
    p = SimulationIn(campaigns_per_month=50, finalists_per_campaign=20, strategic_share=0.2, volume_to_people=0.35,
                     audit_sample_rate=0.1, strategic_reviewers=2, disagreement_rate=0.15, minutes_per_review=12,
                     working_days=21, team=team)  # fmt: skip
    r = simulate(p)
    # By hand: 1000 finalists; 200 strategic -> 200*2 + 30 escalations = 430 reviews;
    # 800 volume -> 280 to people, 520 auto -> 52 audits. 430 + 280 + 52 = 762 reviews.
    # Team: 3*30 + 4*15 = 150 a day * 21 days = 3150 a month, so no backlog.
    assert r.finalists == 1000
    assert (r.strategic_finalists, r.volume_finalists, r.auto_decided) == pytest.approx((200, 800, 520))
    assert r.reviews == pytest.approx(762)
    assert r.share_to_people == pytest.approx((200 + 280 + 52) / 1000)
    assert r.hours == pytest.approx(762 * 12 / 60)
    assert r.capacity == 3150
    assert r.utilisation == pytest.approx(762 / 3150)
    assert r.backlog == 0


def test_simulate_small_team_builds_a_backlog() -> None:
    p = SimulationIn(campaigns_per_month=50, finalists_per_campaign=20, strategic_share=0.5,
                     team=[TeamMember(count=1, daily_capacity=20)])  # fmt: skip
    r = simulate(p)
    # 500 strategic * 2.15 = 1075; 500 volume * 0.35 = 175 to people; 325 auto * 0.1 = 32.5 audits.
    assert r.reviews == pytest.approx(1075 + 175 + 32.5)
    assert r.capacity == 20 * 21
    assert r.backlog == pytest.approx(1282.5 - 420)
    assert r.backlog_days == pytest.approx((1282.5 - 420) / 20)


def test_mix_table_more_strategic_means_more_work() -> None:
    rows = mix_table(SimulationIn())
    reviews = [r.reviews for _, r in rows]
    assert reviews == sorted(reviews) and reviews[0] < reviews[-1]
    assert rows[-1][1].share_to_people == 1.0


def test_simulator_counts_low_confidence_finalists_as_work_for_people() -> None:
    base = SimulationIn(campaigns_per_month=50, finalists_per_campaign=20, strategic_share=0.2, volume_to_people=0.35,
                        audit_sample_rate=0.1, disagreement_rate=0.15)  # fmt: skip
    r = simulate(base.model_copy(update={"low_confidence_share": 0.25}))
    # By hand: 800 volume, 280 uncertain; a quarter of the other 520 (130) are doubted and go to people
    # too, leaving 390 auto-decided and 39 audits: 430 + 280 + 130 + 39 = 879 reviews.
    assert (r.low_confidence, r.auto_decided) == pytest.approx((130, 390))
    assert r.reviews == pytest.approx(879)
    assert simulate(base).low_confidence == 0


def test_a_team_without_capacity_has_no_utilisation_rather_than_infinity() -> None:
    r = simulate(SimulationIn(team=[]))
    assert r.reviews > 0 and r.utilisation is None
    assert "null" in r.model_dump_json() and "Infinity" not in r.model_dump_json()
