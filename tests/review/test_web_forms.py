"""The web app's forms as people meet them: a failed submit keeps what was typed and says what is wrong
next to the field in plain words; the decision form only where the person may decide (with the reason
where not); an unknown task is a page, not JSON; forecast figures keep their precision."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.review.app import build
from services.review.config import ReviewSettings
from services.review.pages import metric_value
from services.review.routing import Policy
from services.review.schemas import CHECKLIST_ITEMS
from tests.review import campaign_helpers as ch
from tests.review import helpers

POLICY = Policy(0.85, 0.25, 0.7, audit_sample_rate=0.0)
PASSWORD = "s3cret-pass"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ReviewSettings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'review.db'}",  # type: ignore[arg-type]
                              kafka_bootstrap="127.0.0.1:1", consumer_enabled=False, default_org=helpers.ORG)  # fmt: skip
    with TestClient(build(settings)) as c:
        for who, markets, manager in (("ann", ["US"], False), ("gus", ["GB"], False), ("max", ["US"], True)):
            body = {"name": who.title(), "markets": markets, "password": PASSWORD, "is_manager": manager}
            assert c.put(f"/v1/reviewers/{who}", json=body).status_code == 200
        yield c


def _task(c: TestClient) -> str:
    runtime = ch.runtime_of(c)
    (task,) = helpers.create(
        runtime.db, runtime.outbox, helpers.shortlist([helpers.entry(1, "cr-1", 0.7, 0.1)]), POLICY
    )
    return task.task_id


def _sign_in(c: TestClient, who: str) -> str:
    c.cookies.clear()
    r = c.post("/app/login", data={"reviewer_id": who, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(c.get("/app/queue").text)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def test_needs_info_without_a_question_comes_back_with_everything_typed_and_a_plain_error(
    client: TestClient,
) -> None:
    task_id = _task(client)
    _sign_in(client, "ann")
    page = client.get(f"/app/tasks/{task_id}").text
    form = {f"{key}_rating": str(i % 5 + 1) for i, key in enumerate(CHECKLIST_ITEMS)}
    form |= {"brand_values_note": "tone fits <the brand>", "decision": "needs_info", "notes": "check rates",
             "csrf": _csrf(page)}  # fmt: skip
    r = client.post(f"/app/tasks/{task_id}/decision", data=form, follow_redirects=False)
    assert r.status_code == 422
    html = r.text
    for i, key in enumerate(CHECKLIST_ITEMS):
        assert re.search(rf'id="{key}_rating".*?<option value="{i % 5 + 1}" selected>', html, re.S), key
    assert 'value="tone fits &lt;the brand&gt;"' in html
    assert 'value="needs_info" checked' in html and ">check rates</textarea>" in html
    assert 'id="err-question"' in html and "Say what information you need" in html
    assert "checklist." not in html and "Input should" not in html and "Value error" not in html
    assert client.get(f"/v1/tasks/{task_id}").json()["status"] == "open"  # nothing was recorded


def test_missing_ratings_are_each_named_next_to_their_field(client: TestClient) -> None:
    task_id = _task(client)
    _sign_in(client, "ann")
    csrf = _csrf(client.get(f"/app/tasks/{task_id}").text)
    r = client.post(f"/app/tasks/{task_id}/decision", data={"decision": "approve", "csrf": csrf})
    assert r.status_code == 422
    for key, label in CHECKLIST_ITEMS.items():
        assert f'id="err-{key}_rating"' in r.text and f"Choose a rating for “{label}”" in r.text.replace(
            "&#39;", "'"
        )


def test_a_person_outside_the_market_gets_the_reason_not_the_form(client: TestClient) -> None:
    task_id = _task(client)
    _sign_in(client, "gus")
    html = client.get(f"/app/tasks/{task_id}").text
    assert 'id="decision-form"' not in html
    assert "You do not cover market US (you cover GB)." in html


def test_a_task_held_by_someone_else_is_not_offered(client: TestClient) -> None:
    task_id = _task(client)  # assigned to ann or max (both cover US)
    holder = client.get(f"/v1/tasks/{task_id}").json()["assignees"][0]
    other = "max" if holder == "ann" else "ann"
    _sign_in(client, other)
    html = client.get(f"/app/tasks/{task_id}").text
    assert 'id="decision-form"' not in html and f"It is assigned to {holder}." in html


def test_an_unknown_task_is_a_page_not_json(client: TestClient) -> None:
    _sign_in(client, "ann")
    r = client.get("/app/tasks/task-nope")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "There is no task “task-nope”" in r.text and 'href="/app/queue"' in r.text


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_mistyped_or_refused_address_is_a_page_with_a_way_back(client: TestClient, signed_in: bool) -> None:
    if signed_in:
        _sign_in(client, "ann")
    else:
        client.cookies.clear()
    for url, status, says in (
        ("/app/nowhere", 404, "There is no such page"),
        ("/app/tasks/ab%00c", 422, "task_id: text cannot contain NUL characters"),
        ("/app/queue?msg=%00", 422, "msg: text cannot contain NUL characters"),
    ):
        r = client.get(url, headers=BROWSER, follow_redirects=False)
        assert r.status_code == status and r.headers["content-type"].startswith("text/html"), (url, r.text)
        assert says in r.text and 'href="/app/queue"' in r.text
        # Signed in, the header is every page's: the menu and who is signed in, with a way to sign out.
        assert ('action="/app/logout"' in r.text) is signed_in and ("Ann" in r.text) is signed_in, url
    # Programs keep the problem JSON, under /app too when they do not ask for a page.
    for url, headers in (("/app/nowhere", {"Accept": "application/json"}), ("/v1/tasks/ab%00c", BROWSER)):
        r = client.get(url, headers=headers)
        assert r.headers["content-type"] == "application/problem+json", url


def test_the_feedback_page_without_results_says_so(client: TestClient) -> None:
    _sign_in(client, "max")
    html = client.get("/app/feedback").text
    assert 'id="feedback-empty"' in html and "No results to learn from yet" in html
    assert "<img" not in html


def test_forecast_figures_keep_their_precision() -> None:
    assert metric_value(0.003, "engagement_rate") == "0.3%"
    assert metric_value(0.0005, "engagement_rate") == "0.05%"
    assert metric_value(0.00004, "engagement_rate") == "<0.01%"
    assert metric_value(0.05, "conversions") == "0.05"
    assert metric_value(2.5, "clicks") == "2.5"
    assert metric_value(12_345.6, "reach") == "12,346"


def test_simulator_errors_are_plain_words_next_to_each_field_and_the_typed_values_stay(
    client: TestClient,
) -> None:
    _sign_in(client, "max")
    typed = {"campaigns_per_month": "lots", "finalists_per_campaign": "20", "strategic_share": "1.5",
             "minutes_per_review": "0", "in_house_count": "3", "in_house_capacity": "25",
             "freelance_count": "2.5", "freelance_capacity": "0"}  # fmt: skip
    html = client.get("/app/manager", params=typed).text
    expected = {
        "campaigns_per_month": "Enter a number for “Campaigns a month”.",
        "strategic_share": "“Strategic share of campaigns” must be between 0 and 1 (a share: 0.2 means 20%).",
        "minutes_per_review": "“Minutes per review” must be more than 0 and at most 480.",
        "freelance_count": "Enter a whole number for “Freelance reviewers”.",
        "freelance_capacity": "“Freelance daily capacity each” must be between 1 and 500.",
    }
    for field, words in expected.items():
        assert re.search(rf'id="err-sim-{field}">{re.escape(words)}</p>', html), field
        assert f'aria-describedby="err-sim-{field}"' in html
    assert 'value="lots"' in html and 'value="1.5"' in html and 'value="2.5"' in html  # as typed
    assert 'id="err-sim-finalists_per_campaign"' not in html and 'id="sim-result"' not in html
    assert "Input should" not in html and "team.1" not in html and "strategic_share:" not in html
    good = client.get("/app/manager", params=typed | {"campaigns_per_month": "50", "strategic_share": "0.2",
                                                      "minutes_per_review": "12", "freelance_count": "2",
                                                      "freelance_capacity": "20"})  # fmt: skip
    assert 'id="sim-result"' in good.text and "field-err" not in good.text
