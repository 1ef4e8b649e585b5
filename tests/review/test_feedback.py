"""People vs outcomes: approvals' hit rate per reviewer, adjustments vs the raw model, where people add value."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import select

from services.review import decisions, feedback, feedback_plots, forecasts
from services.review.app import build
from services.review.config import ReviewSettings
from services.review.models import OutcomeSeen
from services.review.routing import Policy
from services.review.schemas import AdjustmentIn, DecisionIn
from shared.bus.outbox import Outbox
from shared.db import Database
from shared.events import CampaignResultReported, ForecastPublished, MetricForecast
from shared.runtime import Runtime
from tests.review import helpers

POLICY = Policy(0.85, 0.25, 0.7, audit_sample_rate=0.0)
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _forecast(db: Database, creator: str, campaign: str) -> None:
    metrics = [MetricForecast(metric="reach", p10=600, p50=1000, p90=1300, definition="d")]
    event = ForecastPublished(forecast_id=f"fc-{creator}", campaign_id=campaign, creator_id=creator,
                              platform="instagram", format="post", market="US", metrics=metrics,
                              model_name="forecast", model_version="1", created_at=NOW)  # fmt: skip
    with db.transaction() as session:
        forecasts.remember(session, helpers.ORG, event)


def _result(db: Database, creator: str, campaign: str, reach: float) -> None:
    event = CampaignResultReported(result_id=f"r-{creator}", campaign_id=campaign, creator_id=creator,
                                   platform="instagram", format="post", market="US", reach=reach,
                                   engagements=reach / 20, posted_at=NOW)  # fmt: skip
    with db.transaction() as session:
        feedback.remember(session, helpers.ORG, event)
        feedback.remember(session, helpers.ORG, event)  # a re-delivery is ignored


def _world(db: Database, outbox: Outbox) -> None:
    """Ann approves six uncertain creators (five beat the forecast); the policy auto-approves six confident
    ones (two beat it); Ann also pushed one forecast up, and she was right."""
    helpers.add_reviewer(db, "ann")
    people = [helpers.entry(i + 1, f"cr-h{i}", 0.5, 0.1) for i in range(6)]
    auto = [helpers.entry(i + 7, f"cr-a{i}", 0.9, 0.1) for i in range(6)]
    tasks = helpers.create(db, outbox, helpers.shortlist(people + auto, campaign_id="cmp-1"), POLICY)
    for t in tasks:
        _forecast(db, t.creator_id, "cmp-1")
        human = t.creator_id.startswith("cr-h")
        if human:
            with db.transaction() as session:
                decisions.decide(session, helpers.ORG, t.task_id, DecisionIn(reviewer="ann", decision="approve"),
                                 outbox)  # fmt: skip
        hit = t.creator_id in {"cr-h0", "cr-h1", "cr-h2", "cr-h3", "cr-h4", "cr-a0", "cr-a1"}
        _result(db, t.creator_id, "cmp-1", 1500 if hit else 500)
    with db.transaction() as session:
        task = next(t for t in tasks if t.creator_id == "cr-h0")
        forecasts.propose(
            session, task, AdjustmentIn(reviewer="ann", multiplier=1.4, reason="strong fans"), outbox
        )


def test_people_report_scores_each_reviewer_against_outcomes(db: Database, outbox: Outbox) -> None:
    _world(db, outbox)
    with db.transaction() as session:
        report = feedback.people_report(session, helpers.ORG)
    rates = {(r["who"], r["market"]): r["approval_hit_rate"] for r in report["decisions"]}
    assert rates == {("ann", "US"): 0.8333, ("policy:auto", "US"): 0.3333}
    (adj,) = report["adjustments"]
    assert (adj["author"], adj["raw_mdape"], adj["adjusted_mdape"]) == (
        "ann",
        0.3333,
        0.0667,
    )  # 1000 vs 1400 vs 1500
    assert adj["gain"] > 0 and (adj["raw_coverage80"], adj["adjusted_coverage80"]) == (0.0, 1.0)
    bands = {(r["who"], r["match_from"]): r for r in report["calibration"] if r["n"]}
    assert bands[("people", 0.4)]["hit_rate"] == 0.8333 and bands[("policy", 0.8)]["hit_rate"] == 0.3333


def test_value_report_says_where_people_beat_the_policy(db: Database, outbox: Outbox) -> None:
    _world(db, outbox)
    with db.transaction() as session:
        value = feedback.value_report(session, helpers.ORG)
    by = {(s["dimension"], s["value"]): s["verdict"] for s in value["segments"]}
    assert by[("tier", "volume")] == "people add value"
    assert by[("size", "micro")] == "people add value"  # 20,000 followers
    assert value["suggestions"]["send_to_people"] == ["tier=volume", "market=US", "size=micro"]
    assert value["suggestions"]["auto_approve_min_match"] is None  # the policy never did as well as people


def test_report_without_results_says_so(db: Database) -> None:
    with db.transaction() as session:
        report, value = (
            feedback.people_report(session, helpers.ORG),
            feedback.value_report(session, helpers.ORG),
        )
    assert report["decisions"] == [] and value["segments"] == []
    assert feedback_plots.render("reviewers", report).startswith(b"\x89PNG")


def test_plots_are_png(db: Database, outbox: Outbox) -> None:
    _world(db, outbox)
    with db.transaction() as session:
        report = feedback.people_report(session, helpers.ORG)
    for name in feedback_plots.PLOTS:
        png = feedback_plots.render(name, report)
        assert png.startswith(b"\x89PNG") and len(png) > 5_000


def test_rest_and_web_app_serve_the_reports_and_plots(tmp_path: Path) -> None:
    settings = ReviewSettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'review.db'}",
                              kafka_bootstrap="127.0.0.1:1", consumer_enabled=False, default_org=helpers.ORG)  # fmt: skip
    with TestClient(build(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        _world(runtime.db, runtime.outbox)
        people = client.get("/v1/feedback/people").json()
        assert {r["who"] for r in people["decisions"]} == {"ann", "policy:auto"}
        assert client.get("/v1/feedback/value").json()["suggestions"]["send_to_people"][0] == "tier=volume"
        png = client.get("/v1/feedback/plots/adjustments.png")
        assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
        assert client.get("/v1/feedback/plots/nope.png").status_code == 422
        client.put("/v1/reviewers/max", json={"name": "Max", "markets": ["US"], "is_manager": True,
                                              "password": "s3cret-pass"})  # fmt: skip
        client.post("/app/login", data={"reviewer_id": "max", "password": "s3cret-pass"})
        page = client.get("/app/feedback")
        assert page.status_code == 200
        assert "/app/feedback/plots/calibration.png" in page.text and "people add value" in page.text
        assert client.get("/app/feedback/plots/reviewers.png").content.startswith(b"\x89PNG")


def test_the_same_result_id_in_two_organisations_is_kept_for_both(db: Database) -> None:
    for org, reach in (("acme", 100.0), ("globex", 900.0)):
        event = CampaignResultReported(result_id="r-shared", campaign_id="cmp-1", creator_id="cr-1", platform="instagram",
                                       format="reel", market="US", reach=reach, engagements=10,
                                       posted_at=datetime.now(UTC))  # fmt: skip
        with db.transaction() as session:
            feedback.remember(session, org, event)
            feedback.remember(session, org, event)  # a re-delivery changes nothing
    with db.transaction() as session:
        rows = session.exec(select(OutcomeSeen)).all()
    assert sorted((r.org_id, r.reach) for r in rows) == [("acme", 100.0), ("globex", 900.0)]
