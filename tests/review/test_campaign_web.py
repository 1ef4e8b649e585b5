"""The portfolio and a campaign page in a real browser (Debian's chromium via Playwright) at 1366x768,
on PostgreSQL, with campaigns built from the events the other services publish (delivered through the
review service's own dispatcher). Screenshots go to var/screenshots/."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn

from services.review.app import build
from services.review.config import ReviewSettings
from shared.broker import free_port
from shared.events import (
    AnomalyDetected,
    CampaignRetrospectiveReady,
    Contribution,
    MessageVariant,
    PostBelowForecast,
    Reason,
    RetrospectiveLine,
)
from shared.runtime import Runtime
from shared.settings import REPO_ROOT
from tests.review import campaign_helpers as ch
from tests.review import helpers
from tests.review.test_web import CHROMIUM, CHROMIUM_ARGS, PASSWORD

pytestmark = pytest.mark.integration
CREATORS = [f"cr-{i}" for i in range(8)]


@pytest.fixture(scope="module")
def served(
    postgres_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Runtime]]:
    port = free_port()
    settings = ReviewSettings(data_dir=tmp_path_factory.mktemp("campaign-web"), port=port,
                              database_url=postgres_database("review_campaign_web"), kafka_bootstrap="127.0.0.1:1",
                              consumer_enabled=False, default_org=helpers.ORG, session_secret="test-secret")  # fmt: skip
    app = build(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app.state.runtime
    server.should_exit = True
    thread.join(10)


def _world(url: str, runtime: Runtime) -> None:
    """Three campaigns; one taken from brief to retrospective with results, alerts and a decision."""
    headers = {"X-Org-Id": helpers.ORG}
    boss = {
        "name": "Max Park",
        "markets": ["US", "GB"],
        "daily_capacity": 30,
        "is_manager": True,
        "password": PASSWORD,
    }
    httpx.put(f"{url}/v1/reviewers/max@tandem", json=boss, headers=headers).raise_for_status()
    bus = ch.Bus(runtime)
    for cid, brand, tier, markets in (("cmp-web-b", "Acme Foods", "strategic", ["RU", "KZ"]),
                                      ("cmp-web-c", "SolBright", "volume", ["GB"])):  # fmt: skip
        bus.send(
            ch.opened(
                cid, name=f"{brand} spring push", brand=brand, tier=tier, markets=markets, budget_usd=25_000
            )
        )
    bus.send(ch.opened("cmp-web", name="Summer sun care launch", budget_usd=9_000, keywords=["sunscreen"]))
    entries = [helpers.entry(i + 1, c, 0.5, 0.1) for i, c in enumerate(CREATORS[:3])]
    bus.send(helpers.shortlist(entries, campaign_id="cmp-web").model_copy(update={"brand": "SolBright"}))
    for task in httpx.get(f"{url}/v1/tasks", params={"campaign_id": "cmp-web"}, headers=headers).json():
        body = {"decision": "approve", "notes": "fits"}
        as_max = {**headers, "X-Person": "max@tandem"}  # open mode: the person a judgement is recorded as
        httpx.post(f"{url}/v1/tasks/{task['task_id']}/decision", json=body, headers=as_max).raise_for_status()
    plan = ch.plan("cmp-web", CREATORS, approved=True, who="max@tandem")
    variants = [
        MessageVariant(variant_id="A", text="Sun safety first"),
        MessageVariant(variant_id="B", text="Glow all summer"),
    ]
    bus.send(plan.model_copy(update={"variants": variants}))
    for i, reach in enumerate([12_000, 4_000, 14_500, 9_000, 11_000, 7_500]):
        bus.send(ch.result("cmp-web", CREATORS[i], i, reach, spend=1_000 + 100 * i, days_ago=6 - i))
    now = datetime.now(UTC)
    bus.send(PostBelowForecast(campaign_id="cmp-web", line_id="l-1", creator_id="cr-1", metric="reach", actual=4_000,
                               p10=5_000, p50=10_000, detected_at=now))  # fmt: skip
    bus.send(AnomalyDetected(anomaly_id="an-w", creator_id="cr-2", kind="engagement_spike", severity=0.7,
                             reasons=[Reason(code="spike", text="likes x9 in an hour")], detected_at=now))  # fmt: skip
    httpx.post(
        f"{url}/v1/campaigns/cmp-web/close", json={"reason": "flight ended"}, headers=headers
    ).raise_for_status()
    lines = [RetrospectiveLine(line_id=f"l-{i}", creator_id=c, platform="instagram", format="reel", market="US",
                               variant_id="A" if i % 2 == 0 else "B", forecast_p10=5_000, forecast_p50=10_000,
                               forecast_p90=16_000, actual=None) for i, c in enumerate(CREATORS)]  # fmt: skip
    bus.send(CampaignRetrospectiveReady(
        campaign_id="cmp-web", metric="reach", forecast_total=60_000, actual_total=58_000, spend_usd=7_500,
        contributions=[Contribution(dimension="creator", value="cr-1", forecast=10_000, actual=4_000, miss=-6_000,
                                    share_of_miss=-3.0),
                       Contribution(dimension="message", value="A", forecast=30_000, actual=35_500, miss=5_500,
                                    share_of_miss=2.75)],
        lines=lines, message_winner="A", message_win_probability=0.83,
        message_summary="Message A ('Sun safety first') beat B with 83% probability.", computed_at=now,
    ))  # fmt: skip


def test_manager_reads_the_portfolio_and_a_campaign_with_its_plots_and_writes_a_lesson(
    served: tuple[str, Runtime], tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (run ./scripts/ensure-chromium.sh)")
    from playwright.sync_api import expect, sync_playwright

    url, runtime = served
    _world(url, runtime)
    out = REPO_ROOT / "var" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{url}/app/login")
        page.fill("#reviewer_id", "max@tandem")
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Portfolio").click()
        expect(page.locator("h1")).to_contain_text("3 campaigns")
        page.select_option("#f-brand", "SolBright")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("#portfolio tbody tr")).to_have_count(2)
        expect(page.locator("#f-brand")).to_have_value("SolBright")  # the form keeps what was chosen
        row = page.locator("#portfolio tbody tr", has_text="Summer sun care launch")
        expect(row).to_contain_text("closed")
        expect(row).to_contain_text("$7,500 / $9,000")
        expect(row).to_contain_text("0.97\u00d7")  # 58,000 reach against 60,000 forecast p50
        assert _fits(page), "the portfolio is wider than a 1366 px screen"
        page.screenshot(path=str(out / "review-portfolio.png"), full_page=True)

        row.get_by_role("link", name="Summer sun care launch").click()
        expect(page.locator("#campaign-stage")).to_have_text("closed")
        expect(page.locator("#alerts")).to_contain_text("below p10")
        expect(page.locator("#alerts")).to_contain_text("likes x9 in an hour")
        expect(page.locator("#contributions")).to_contain_text("cr-1")
        expect(page.locator("#decisions")).to_contain_text("approve by max@tandem")
        expect(page.locator("#timeline")).to_contain_text("live -> closed: flight ended")
        page.wait_for_load_state("networkidle")
        sizes = page.eval_on_selector_all(
            ".plots img", "els => els.map(e => [e.naturalWidth, e.clientWidth])"
        )
        assert len(sizes) == 4 and all(w > 0 and shown <= w for w, shown in sizes), sizes
        assert _fits(page), "the campaign page is wider than a 1366 px screen"
        page.screenshot(path=str(out / "review-campaign.png"), full_page=True)

        page.select_option("#l-scope", "market")
        page.fill("#l-value", "XX")
        page.fill("#l-text", "US sun care: reels with a routine beat product shots")
        page.get_by_role("button", name="Record lesson").click()
        expect(page.locator(".flash.err")).to_contain_text("is not a market")
        expect(page.locator("#l-text")).to_have_value("US sun care: reels with a routine beat product shots")
        page.fill("#l-value", "US")
        page.select_option("#l-metric", "reach")
        page.fill("#l-mult", "0.9")
        page.get_by_role("button", name="Record lesson").click()
        expect(page.locator(".flash.ok")).to_contain_text("Lesson recorded")
        expect(page.locator("#lessons")).to_contain_text("reels with a routine beat product shots")
        expect(page.locator("#lessons")).to_contain_text("max@tandem")
        browser.close()
    lessons = httpx.get(
        f"{url}/v1/lessons", params={"campaign_id": "cmp-web"}, headers={"X-Org-Id": helpers.ORG}
    ).json()
    assert [(x["author"], x["multiplier"]) for x in lessons] == [("max@tandem", 0.9)]
    shutil.copy(out / "review-campaign.png", tmp_path / "campaign.png")  # kept with the test's own output too


def _fits(page: object) -> bool:
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    return bool(width <= 1366)
