"""The reviewer web app in a real browser (Debian's chromium driven by Playwright), against the real
broker and PostgreSQL: sign in, open a task, fill the checklist, approve; the decision reaches Kafka."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn

from services.review.app import build
from services.review.config import ReviewSettings
from shared import topics
from shared.broker import Broker, free_port
from shared.events import ForecastPublished, FraudScored, MetricForecast, Reason, ShortlistEntry, wrap
from shared.settings import REPO_ROOT
from tests.busutil import chosen_broker_kind, owner, produce, read_topic, started_broker
from tests.review import helpers

pytestmark = pytest.mark.integration
CHROMIUM = Path("/usr/bin/chromium")
# Flags from ../shared/notes/browser.md; Playwright adds most of them itself, they are belt and braces.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]  # fmt: skip
ORG = "weborg"
PASSWORD = "correct-horse-42"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A broker of this module's own: the session's carries every earlier test's events, and a fresh
    review consumer group (reading from the earliest offset) would have to apply all of them before this
    test's shortlist, which made the browser test's waits depend on what ran before it."""
    b = started_broker(chosen_broker_kind(), tmp_path_factory, "web")
    yield b
    b.close()


@pytest.fixture(scope="module")
def review_url(
    broker: Broker, postgres_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The review service for real: uvicorn on a free loopback port, this module's broker, PostgreSQL."""
    port = free_port()
    settings = ReviewSettings(
        data_dir=tmp_path_factory.mktemp("review-web"),  # its own identity.db, not the repo's var/
port=port, database_url=postgres_database("review_web"), kafka_bootstrap=broker.bootstrap,
                              consumer_group=f"test-review-web-{uuid.uuid4().hex[:6]}", default_org=ORG,
                              session_secret="test-secret")  # fmt: skip
    server = uvicorn.Server(uvicorn.Config(build(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        pytest.fail("the review service did not become ready")
    yield url
    server.should_exit = True
    thread.join(10)


def _publish_world(bootstrap: str, campaign_id: str) -> None:
    """A volume shortlist with one uncertain finalist, plus its fraud score and a forecast."""
    now = datetime.now(UTC)
    reasons = [Reason(code="audience_in_target", text="82% of the audience is in US", direction=1),
               Reason(code="engagement_vs_tier", text="2.1% engagement vs 2.9% tier median", direction=-1)]  # fmt: skip
    base = helpers.entry(1, "cr-web-1", 0.71, 0.18)
    entry = ShortlistEntry.model_validate({**base.model_dump(), "reasons": [r.model_dump() for r in reasons]})
    sl = helpers.shortlist([entry], campaign_id=campaign_id)
    fraud = FraudScored(creator_id="cr-web-1", risk=0.18, level="low", model_name="fraud", model_version="2",
                        scored_at=now, reasons=[Reason(code="growth", text="steady follower growth", direction=1)])  # fmt: skip
    forecast = ForecastPublished(
        forecast_id=f"fc-{campaign_id}", campaign_id=campaign_id, creator_id="cr-web-1", platform="instagram",
        format="reel", market="US", model_name="forecast", model_version="1", created_at=now,
        metrics=[MetricForecast(metric="reach", p10=6000, p50=11000, p90=19000, definition="unique viewers")],
    )  # fmt: skip
    for topic, event in (
        (topics.FRAUD_SCORES, fraud),
        (topics.FORECASTS, forecast),
        (topics.DISCOVERY_SHORTLISTS, sl),
    ):
        env = wrap(event, producer=owner(event.topic), correlation_id=f"corr-{campaign_id}", org_id=ORG)
        produce(bootstrap, topic, [(env.key, env.to_bytes())])


def _wait_for_task(url: str, campaign_id: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = httpx.get(
            f"{url}/v1/tasks", params={"campaign_id": campaign_id}, headers={"X-Org-Id": ORG}
        ).json()
        if got:
            return str(got[0]["task_id"])
        time.sleep(0.3)
    raise AssertionError("no review task was created from the shortlist")


def test_reviewer_signs_in_fills_the_checklist_and_approves(
    review_url: str, broker: Broker, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (run ./scripts/ensure-chromium.sh)")
    from playwright.sync_api import expect, sync_playwright

    headers = {"X-Org-Id": ORG}
    reviewer = {"name": "Ann Lee", "markets": ["US", "GB"], "languages": ["en"], "daily_capacity": 20,
                "password": PASSWORD}  # fmt: skip
    assert (
        httpx.put(f"{review_url}/v1/reviewers/ann@tandem", json=reviewer, headers=headers).status_code == 200
    )
    campaign_id = f"cmp-web-{uuid.uuid4().hex[:8]}"
    history = {"campaign_id": "cmp-old", "status": "completed", "outcome_vs_forecast": 1.2,
               "notes": "delivered on time", "author": "ann@tandem"}  # fmt: skip
    httpx.post(
        f"{review_url}/v1/creators/cr-web-1/relationship",
        json=history,
        headers={**headers, "X-Person": "ann@tandem"},
    ).raise_for_status()
    _publish_world(broker.bootstrap, campaign_id)
    task_id = _wait_for_task(review_url, campaign_id)
    _wait_for_forecast(review_url, task_id)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})  # a common laptop screen
        page.goto(f"{review_url}/app/queue")
        expect(page.locator("h1")).to_have_text("Sign in")
        page.fill("#reviewer_id", "ann@tandem")
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")  # the keyboard alone signs in
        expect(page.locator("h1")).to_have_text("My queue")
        page.select_option("#f-market", "US")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_role("link", name="cr-web-1")).to_be_visible()
        page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)
        page.get_by_role("link", name="cr-web-1").click()
        expect(page.locator("h1")).to_contain_text("cr-web-1")
        expect(page.get_by_text("82% of the audience is in US")).to_be_visible()
        expect(page.get_by_text("steady follower growth")).to_be_visible()
        expect(page.get_by_text("delivered on time")).to_be_visible()
        expect(page.locator("#h-fc + table")).to_contain_text("11,000")
        for key, note in [("brand_values", "clean, honest tone"), ("creative_brief", "does reels well"),
                          ("audience_interest", "skincare-curious audience"), ("past_collaborations", "on time"),
                          ("relationship", "candidate for a yearly deal")]:  # fmt: skip
            page.select_option(f"#{key}_rating", "4")
            page.fill(f"#{key}_note", note)
        page.get_by_label("Approve").check()
        page.fill("#notes", "fits the brief")
        shot = tmp_path / "review-task.png"
        page.screenshot(path=str(shot), full_page=True)
        page.get_by_role("button", name="Submit decision").click()
        expect(page.locator(".flash.ok")).to_have_text("Decision recorded: approve.")
        expect(page.locator("#task-status")).to_have_text("decided")
        page.get_by_text("Add a note or an incident").click()
        page.select_option("#hist-status", "incident")
        page.fill("#hist-notes", "posted without the #ad label")
        page.get_by_role("button", name="Add to history").click()
        expect(page.locator(".flash.ok")).to_have_text("Added to the creator's history.")
        expect(page.locator(".history").first).to_contain_text("incidents: posted without the #ad label")
        browser.close()
    out = REPO_ROOT / "var" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, out / "review-task.png")
    shutil.copy(tmp_path / "queue.png", out / "review-queue.png")

    decided = [
        orjson.loads(r.value) for r in read_topic(broker.bootstrap, topics.REVIEW_DECISIONS, 10_000, 30)
    ]
    # The outbox publishes at least once, so a record may repeat; one decision is one event_id.
    mine = {e["event_id"]: e["payload"] for e in decided if e["payload"]["task_id"] == task_id}
    assert [(e["decision"], e["decided_by"], e["automated"]) for e in mine.values()] == [
        ("approve", "ann@tandem", False)
    ]
    history = [
        orjson.loads(r.value)["payload"]
        for r in read_topic(broker.bootstrap, topics.REVIEW_RELATIONSHIPS, 10_000, 30)
    ]
    assert {h["status"] for h in history if h["creator_id"] == "cr-web-1"} == {
        "completed",
        "proposed",
        "incident",
    }
    task = httpx.get(f"{review_url}/v1/tasks/{task_id}", headers=headers).json()
    assert task["reviews"][0]["checklist"]["relationship"] == {
        "rating": 4,
        "note": "candidate for a yearly deal",
    }


def _wait_for_forecast(url: str, task_id: str) -> None:
    """Fraud scores and forecasts travel on their own topics: wait until the task's context has them."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ctx = httpx.get(f"{url}/v1/tasks/{task_id}/context", headers={"X-Org-Id": ORG}).json()
        if ctx["forecasts"] and ctx["fraud"]:
            return
        time.sleep(0.3)
    raise AssertionError("the forecast or fraud score never reached the review service")


def test_manager_sees_queues_and_runs_the_simulator_with_the_keyboard(
    review_url: str, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (run ./scripts/ensure-chromium.sh)")
    from playwright.sync_api import expect, sync_playwright

    boss = {"name": "Max Park", "markets": ["US", "RU"], "daily_capacity": 10, "is_manager": True,
            "password": PASSWORD}  # fmt: skip
    httpx.put(
        f"{review_url}/v1/reviewers/max@tandem", json=boss, headers={"X-Org-Id": ORG}
    ).raise_for_status()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{review_url}/app/login")
        expect(page.locator("#reviewer_id")).to_be_focused()  # the id field has focus on load
        page.keyboard.type("max@tandem")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Tab")
        expect(page.locator("#org_id")).to_be_focused()  # prefilled with the service's organisation
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Sign in")).to_be_focused()
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Manager view").click()
        expect(page.locator("h1")).to_have_text("Manager view")
        expect(page.get_by_role("cell", name="Max Park")).to_be_visible()
        page.fill("#sim-campaigns_per_month", "50")
        page.fill("#sim-finalists_per_campaign", "20")
        page.fill("#sim-strategic_share", "0.2")
        page.fill("#sim-low_confidence_share", "0")
        page.fill("#sim-in_house-count", "3")
        page.fill("#sim-in_house-cap", "30")
        page.fill("#sim-freelance-count", "4")
        page.fill("#sim-freelance-cap", "15")
        page.get_by_role("button", name="Simulate").click()
        # 1000 finalists -> 200*2.15 + 280 + 52 = 762 reviews (see test_simulator for the arithmetic).
        expect(page.locator("#sim-reviews")).to_have_text("762")
        expect(page.locator("#sim-share")).to_have_text("53%")
        page.screenshot(path=str(tmp_path / "manager.png"), full_page=True)
        browser.close()
    out = REPO_ROOT / "var" / "screenshots" / "review-manager.png"
    out.parent.mkdir(parents=True, exist_ok=True)  # this test may run alone
    shutil.copy(tmp_path / "manager.png", out)
