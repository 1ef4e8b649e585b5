"""A new reviewer's first hour in the demo set-up, in a real browser (Debian's chromium via Playwright):
the demo's sign-in, a queue with work, a failed submit that keeps the typed checklist, a decision; then the
manager's pages. Every page is checked at 1366x768 for horizontal scroll and saved as a screenshot
(var/screenshots/first-hour-*.png) for a person to look at."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.broker import Broker
from shared.settings import REPO_ROOT
from tandem import synthetic
from tandem.demo import DEMO_BRIEFS, DEMO_MANAGER, DEMO_REVIEWERS, DemoClient, open_work
from tandem.services import SERVICES
from tandem.supervisor import Suite

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO_ROOT / "var" / "screenshots"
REVIEWER, MANAGER = DEMO_REVIEWERS[0], DEMO_MANAGER
PASSWORD = "first-hour-pass"
RATINGS = {"brand_values": ("4", "honest, calm tone"), "creative_brief": ("3", "reels only so far"),
           "audience_interest": ("5", "sun-care questions in comments"), "past_collaborations": ("2", "one late post"),
           "relationship": ("4", "could be a yearly partner")}  # fmt: skip


@pytest.fixture(scope="module")
def demo(
    broker: Broker, postgres_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The demo's set-up, as `tandem demo` makes it: its people sign up, its catalogue, its volume brief."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (run ./scripts/ensure-chromium.sh)")
    urls = {name: postgres_database(f"fh_{name}") for name in SERVICES}
    suite = Suite(
        bootstrap=broker.bootstrap, workdir=tmp_path_factory.mktemp("first-hour"), database_urls=urls
    )
    suite.start()
    try:
        client = DemoClient(suite)
        for person in DEMO_REVIEWERS:
            client.add_person(person, PASSWORD)
        client.load_catalogue(synthetic.generate_world(300, seed=5))
        result = client.run_campaign({**DEMO_BRIEFS[0], "shortlist_size": 8})
        client.add_person(MANAGER, PASSWORD, manager=True)
        open_tasks, orphans = open_work(client, DEMO_REVIEWERS)
        assert open_tasks and not orphans, f"{len(orphans)} open tasks are held by nobody who can sign in"
        yield {"url": suite.processes["review"].url, "result": result, "client": client}
    finally:
        suite.stop()


def _look(page: Any, name: str) -> None:
    """Saves the page as a person would see it and checks it fits the screen's width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"first-hour-{name}.png"), full_page=True)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{name}: {width[0]} px wide on a {width[1]} px window"


def test_a_new_reviewer_signs_in_fails_a_submit_keeps_the_checklist_and_decides(demo: dict[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url = demo["url"]
    decided = next(t for t in demo["result"]["tasks"] if t["route"] == "human" and t["status"] == "decided")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{url}/app/login")
        expect(page.locator("h1")).to_have_text("Sign in")
        _look(page, "1-sign-in")
        page.fill("#reviewer_id", REVIEWER)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("My queue")
        rows = page.locator("main table tbody tr")
        expect(rows.first).to_be_visible()
        _look(page, "2-queue")

        page.locator("main table tbody tr a").first.click()
        expect(page.locator("#decision-form")).to_be_visible()
        for key, (rating, note) in RATINGS.items():
            page.select_option(f"#{key}_rating", rating)
            page.fill(f"#{key}_note", note)
        page.get_by_role("radio", name="Needs more information").check()
        page.fill("#notes", "promising, but rates unclear")
        page.get_by_role("button", name="Submit decision").click()  # no question: refused

        expect(page.locator("#err-question")).to_contain_text("Say what information you need")
        for key, (rating, note) in RATINGS.items():
            expect(page.locator(f"#{key}_rating")).to_have_value(rating)
            expect(page.locator(f"#{key}_note")).to_have_value(note)
        expect(page.get_by_role("radio", name="Needs more information")).to_be_checked()
        expect(page.locator("#notes")).to_have_value("promising, but rates unclear")
        expect(page.locator("#task-status")).to_have_text("open")
        page.locator("#err-question").scroll_into_view_if_needed()
        _look(page, "3-task-kept-after-error")

        page.fill("#question", "What is your rate for two reels in June?")
        page.get_by_role("button", name="Submit decision").click()
        expect(page.locator(".flash.ok")).to_contain_text("Decision recorded: needs_info")
        _look(page, "4-task-decided")

        page.goto(f"{url}/app/tasks/{decided['task_id']}")  # approved earlier: it has a forecast now
        expect(page.locator("#h-fc + table")).to_contain_text("%")
        expect(page.locator("#h-fc + table")).to_contain_text("engagement rate")
        _look(page, "5-task-with-forecast")
        page.goto(f"{url}/app/tasks/task-does-not-exist")
        expect(page.locator("h1")).to_contain_text("There is no task")
        _look(page, "6-unknown-task")

        page.get_by_role("button", name="Sign out").click()
        page.fill("#reviewer_id", MANAGER)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("My queue")
        _look(page, "7-manager-queue")
        for name, path in [("8-manager", "/app/manager"), ("9-feedback", "/app/feedback"),
                           ("10-portfolio", "/app/portfolio"),
                           ("11-campaign", f"/app/campaigns/{decided['campaign_id']}")]:  # fmt: skip
            response = page.goto(f"{url}{path}")
            assert response is not None and response.status == 200, path
            _look(page, name)
        browser.close()

    task = httpx.get(f"{url}/v1/tasks/{page_task_id(url)}").json()
    mine = next(r for r in task["reviews"] if r["reviewer_id"] == REVIEWER and r["status"] == "done")
    assert mine["question"] == "What is your rate for two reels in June?"
    assert {k: (str(v["rating"]), v["note"]) for k, v in mine["checklist"].items()} == RATINGS


def page_task_id(url: str) -> str:
    """The task the reviewer just decided: the one with their needs_info on it."""
    tasks = httpx.get(f"{url}/v1/tasks?limit=1000").json()
    return next(t["task_id"] for t in tasks if any(r["decision"] == "needs_info" for r in t["reviews"]))


def test_the_managers_pages_fit_the_screen_once_a_campaign_has_results(demo: dict[str, Any]) -> None:
    """After the demo's whole cycle (plan, results, close, retrospective) the pages with plots and tables
    still fit a 1366 px screen."""
    from playwright.sync_api import expect, sync_playwright

    url, cid = demo["url"], demo["result"]["shortlist"]["campaign_id"]
    demo["client"].run_cycle(cid)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{url}/app/login")
        page.fill("#reviewer_id", MANAGER)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("My queue")
        page.goto(f"{url}/app/feedback")
        expect(page.locator("#feedback-empty")).to_have_count(0)
        expect(page.locator("img.feedback-plot").first).to_be_visible()
        _look(page, "12-feedback-with-results")
        page.goto(f"{url}/app/campaigns/{cid}")
        _look(page, "13-campaign-closed")
        browser.close()
