"""Per-organisation learning: an organisation's results move its own forecasts, never another's (issue 18)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.forecast import learning, learnt_cache, results
from services.forecast.consumers import handlers
from services.forecast.forecasting import forecast
from services.forecast.models import ForecastRecord
from services.forecast.planning import content_from_request
from services.forecast.retraining import pooled_orgs
from services.forecast.schemas import ForecastIn, ResultIn
from shared.events import CampaignResultReported, Event, ReviewDecided, wrap
from shared.runtime import Runtime
from tests.forecast.campaignutil import CAMPAIGN, VARIANTS, apply, decided, opened

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _apply(runtime: Runtime, org: str, event: Event) -> None:
    envelope = wrap(event, producer="test", correlation_id="c-1", org_id=org)
    with runtime.db.transaction() as session:
        handlers(runtime)[event.event_type](session, event, envelope)


def _approve(runtime: Runtime, org: str, campaign: str, creator: str) -> dict[str, float]:
    """Approve the creator for the campaign; the p50 of the stored forecast per target."""
    person = {"creator_id": creator, "name": "Ann", "home_market": "RU", "platform": "instagram",
              "followers": 60_000, "engagement_rate": 0.03, "engagement_basis": "per_follower",
              "audience": [{"market": "RU", "audience_share": 0.6, "engagement_rate": 0.03}]}  # fmt: skip
    _apply(runtime, org, ReviewDecided.model_validate({
        "decision_id": f"d-{campaign}-{creator}", "task_id": "t-1", "campaign_id": campaign, "tier": "volume",
        "decision": "approve", "automated": True, "decided_by": "policy:auto", "route_reason": "r",
        "match_score": 0.9, "target_markets": ["RU"], "creator": person, "decided_at": NOW}))  # fmt: skip
    with runtime.db.transaction() as session:
        row = session.exec(select(ForecastRecord).where(
            ForecastRecord.org_id == org, ForecastRecord.campaign_id == campaign,
            ForecastRecord.creator_id == creator)).one()  # fmt: skip
        return {m["metric"]: m["p50"] for m in row.metrics}


def _report(
    runtime: Runtime, org: str, campaign: str, creator: str, reach: float, engagements: float
) -> None:
    item = ResultIn.model_validate({"result_id": f"res-{campaign}-{creator}", "campaign_id": campaign,
                                    "creator_id": creator, "platform": "instagram", "format": "post", "market": "RU",
                                    "reach": reach, "engagements": engagements,
                                    "posted_at": "2026-12-02T19:00:00+00:00"})  # fmt: skip
    with runtime.db.transaction() as session:
        results.ingest(session, runtime.outbox, org, [item], source="rest")
    _apply(runtime, org, CampaignResultReported.model_validate(item.model_dump(include=results.EVENT_FIELDS)))


def _beat_forecasts(runtime: Runtime, org: str, creator: str, campaigns: int, factor: float) -> None:
    """The creator's posts come in at `factor` times the pooled model's forecast, campaign after campaign."""
    pooled = _approve(runtime, "probe", f"probe-{creator}", creator)  # an organisation with no results
    for i in range(campaigns):
        _approve(runtime, org, f"past-{creator}-{i}", creator)
        _report(runtime, org, f"past-{creator}-{i}", creator, pooled["reach"] * factor,
                pooled["engagements"] * factor)  # fmt: skip


def test_one_organisations_results_change_its_own_forecasts_only(runtime: Runtime) -> None:
    before = {org: _approve(runtime, org, "cmp-before", "cr-9") for org in ("acme", "globex")}
    assert before["acme"] == before["globex"]  # the same pooled prior
    _beat_forecasts(runtime, "acme", "cr-1", campaigns=12, factor=3.0)
    acme, globex = (_approve(runtime, org, "cmp-next", "cr-9") for org in ("acme", "globex"))
    assert globex == before["globex"]  # acme's results did not reach globex
    assert acme["reach"] > 1.3 * before["acme"]["reach"]  # acme's own forecasts learnt it under-forecasts
    assert acme["engagements"] > 1.3 * before["acme"]["engagements"]


def test_a_creators_own_record_moves_its_forecast_more_than_its_peers(runtime: Runtime) -> None:
    _beat_forecasts(runtime, "acme", "cr-1", campaigns=8, factor=4.0)
    _beat_forecasts(runtime, "acme", "cr-2", campaigns=8, factor=1.0)
    star, steady, new = (_approve(runtime, "acme", "cmp-next", c) for c in ("cr-1", "cr-2", "cr-3"))
    assert star["reach"] > 1.5 * steady["reach"]  # same figures, different track records
    assert steady["reach"] < new["reach"] < star["reach"]  # a newcomer gets the organisation's norm


def test_few_results_are_shrunk_toward_the_pooled_model() -> None:
    assert learning.shrunk_mean(np.array([1.0]), learning.CREATOR_PRIOR) == pytest.approx(1 / 6)
    assert learning.shrunk_mean(np.full(95, 1.0), learning.CREATOR_PRIOR) == pytest.approx(0.95)


def test_pooled_model_learns_only_from_organisations_that_opted_in() -> None:
    assert pooled_orgs([]) == [] and pooled_orgs(["acme"]) == ["acme"] and pooled_orgs(["*"]) is None


def test_plan_lines_carry_the_organisations_own_learning(runtime: Runtime, client: TestClient) -> None:
    _beat_forecasts(runtime, "acme", "cr-77", campaigns=12, factor=3.0)
    planned = {}
    for org in ("acme", "globex"):  # the same campaign and creators in both organisations
        apply(runtime, opened(), org)
        for i in range(4):
            apply(runtime, decided(i, "instagram"), org)
        r = client.post(
            f"/v1/campaigns/{CAMPAIGN}/plan", json={"variants": VARIANTS}, headers={"X-Org-Id": org}
        )
        assert r.status_code == 201, r.text
        planned[org] = sum(
            m["p50"] for x in r.json()["lines"] for m in x["forecast"] if m["metric"] == "reach"
        )
    assert planned["acme"] > 1.3 * planned["globex"]


POST = {"followers": 60_000, "engagement_rate": 0.03, "platform": "instagram", "format": "post",
        "market": "RU", "market_share": 0.6, "creator_id": "cr-1"}  # the content _approve forecasts  # fmt: skip
BATCH = {"items": [POST, {**POST, "creator_id": "cr-new", "followers": 9_000}, {**POST, "creator_id": None}]}


def _rest(client: TestClient, org: str) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The organisation's single, batch and columnar REST answers for the same posts."""
    columns = {k: [i.get(k) for i in BATCH["items"]] for k in POST}
    answers = [client.post(f"/v1/forecasts/predict{path}", json=body, headers={"X-Org-Id": org})
               for path, body in (("", POST), ("/batch", BATCH), ("/columns", columns))]  # fmt: skip
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    return answers[0].json(), answers[1].json(), answers[2].json()


def _p50(answer: dict[str, Any], metric: str) -> float:
    return next(m["p50"] for m in answer["metrics"] if m["metric"] == metric)


def test_rest_forecasts_learn_from_the_callers_results_only(runtime: Runtime, client: TestClient) -> None:
    before = {org: _rest(client, org) for org in ("acme", "globex")}
    assert before["acme"] == before["globex"] and before["acme"][0]["learning"] is None  # the pooled prior
    _beat_forecasts(runtime, "acme", "cr-1", campaigns=12, factor=3.0)
    acme = _rest(client, "acme")  # scoring acme's results dropped its cached learning at once
    learnt_cache.cache_of(runtime).forget_all()  # globex re-measured from the database, not from memory
    assert _rest(client, "globex") == before["globex"]  # exactly: acme's results did not reach globex
    single, batch, columns = acme
    assert _p50(single, "reach") > 1.3 * _p50(before["acme"][0], "reach")
    assert single["learning"]["org_id"] == "acme" and single["learning"]["results"] == 12
    assert single["learning"]["creator_offset"]["reach"] > 0  # cr-1's own record beat the forecasts
    assert single == batch[0] and batch[1]["learning"]["creator_offset"] == {}  # a newcomer: the org's norm
    assert _p50(batch[0], "reach") > _p50(batch[2], "reach") > _p50(before["acme"][1][2], "reach")
    assert columns["metrics"]["reach"]["p50"][0] == pytest.approx(_p50(single, "reach"), abs=0.05)
    assert columns["learning"]["org_offset"] == single["learning"]["org_offset"]
    assert set(columns["learning"]["creator_offsets"]) == {"cr-1"}


def test_rest_forecast_matches_the_forecast_stored_at_approval(runtime: Runtime, client: TestClient) -> None:
    _beat_forecasts(runtime, "acme", "cr-1", campaigns=6, factor=2.0)
    stored = _approve(runtime, "acme", "cmp-next", "cr-1")
    single = _rest(client, "acme")[0]
    assert {t: _p50(single, t) for t in ("reach", "engagements")} == {
        t: stored[t] for t in ("reach", "engagements")
    }


def test_rest_forecast_of_an_organisation_without_results_is_the_pooled_model(
    runtime: Runtime, client: TestClient
) -> None:
    model = runtime.model("forecast").current
    pooled = forecast(model, [content_from_request(ForecastIn.model_validate(POST))])[0]
    single, _, columns = _rest(client, "newco")
    assert single["metrics"] == [m.model_dump() for m in pooled] and single["learning"] is None
    assert columns["learning"] is None


def test_cached_learning_expires_after_its_ttl(runtime: Runtime) -> None:
    now = [0.0]
    cache = learnt_cache.LearntCache(runtime.db, ttl_s=60, clock=lambda: now[0])
    model = runtime.model("forecast").current
    taught = cache.refresh("acme", model)
    assert cache.cached("acme", model) is taught and cache.cached("globex", model) is None
    now[0] = 61.0
    assert cache.cached("acme", model) is None  # another process's results are seen within the TTL


def _posted(line: dict[str, Any], factor: float) -> CampaignResultReported:
    """The line's post, reported at `factor` times its forecast (as the plan gave it)."""
    p50 = {m["metric"]: m["p50"] for m in line["forecast"]}
    return CampaignResultReported.model_validate({
        "result_id": f"res-{line['line_id']}", "campaign_id": CAMPAIGN, "creator_id": line["creator_id"],
        "platform": line["platform"], "format": line["format"], "market": line["market"],
        "reach": p50["reach"] * factor, "engagements": p50["engagements"] * factor,
        "posted_at": datetime.fromisoformat(f"{line['scheduled_on']}T19:00:00+00:00"),
        "line_id": line["line_id"], "variant": line["variant_id"]})  # fmt: skip


def _message_forecasts(client: TestClient, org: str) -> dict[str, dict[str, Any]]:
    """The organisation's REST forecast of one post carrying message A, message B, and no message named."""
    bodies = {v: {**POST, "creator_id": None, "campaign_id": CAMPAIGN, "variant_id": v} for v in ("A", "B")}
    bodies["none"] = {**POST, "creator_id": None}
    answers = {
        k: client.post("/v1/forecasts/predict", json=b, headers={"X-Org-Id": org}) for k, b in bodies.items()
    }
    assert all(r.status_code == 200 for r in answers.values()), [r.text for r in answers.values()]
    return {k: r.json() for k, r in answers.items()}


@pytest.mark.parametrize("via", ["rest", "topic"])  # a result put straight onto the topic has no REST record
def test_a_messages_results_move_its_own_forecasts_only(
    runtime: Runtime, client: TestClient, via: str
) -> None:
    for org in ("acme", "globex"):  # the same campaign, creators and messages in both organisations
        apply(runtime, opened(), org)
        for i in range(8):
            apply(runtime, decided(i, "instagram"), org)
    r = client.post(
        f"/v1/campaigns/{CAMPAIGN}/plan", json={"variants": VARIANTS}, headers={"X-Org-Id": "acme"}
    )
    assert r.status_code == 201, r.text
    before = {org: _message_forecasts(client, org) for org in ("acme", "globex")}
    for line in r.json()["lines"]:
        if line["variant_id"] == "A":  # only message A's posts have come in, at three times their forecast
            event = _posted(line, 3.0)
            if via == "rest":
                body = {"results": [event.model_dump(mode="json")]}
                assert client.post("/v1/results", json=body, headers={"X-Org-Id": "acme"}).status_code == 202
            apply(runtime, event, "acme")
    acme, globex = _message_forecasts(client, "acme"), _message_forecasts(client, "globex")
    assert globex == before["globex"]  # acme's results did not reach globex's forecasts of the same message
    a, b, none = acme["A"], acme["B"], acme["none"]
    assert a["learning"]["variant_offset"]["reach"] > 0.2 and b["learning"]["variant_offset"] == {}
    assert b["metrics"] == none["metrics"]  # B has no results: the organisation's norm, like no message named
    for metric in ("reach", "engagements"):
        assert _p50(a, metric) > 1.2 * _p50(b, metric) > 1.2 * _p50(before["acme"]["B"], metric)
    expected = math.exp(sum(a["learning"][k]["reach"] for k in ("org_offset", "variant_offset")))
    assert a["learning"]["factor"]["reach"] == pytest.approx(expected, rel=1e-2)
    rows = [
        {**POST, "creator_id": None, "campaign_id": CAMPAIGN if v else None, "variant_id": v}
        for v in ("A", "B", None)
    ]
    columns = client.post("/v1/forecasts/predict/columns", json={k: [r[k] for r in rows] for k in rows[0]},
                          headers={"X-Org-Id": "acme"}).json()  # fmt: skip
    for i, answer in enumerate((a, b, none)):  # the bulk path applies the same offsets
        assert columns["metrics"]["reach"]["p50"][i] == pytest.approx(_p50(answer, "reach"), abs=0.05)
    assert list(columns["learning"]["variant_offsets"]) == [f"{CAMPAIGN}/A"]


def test_plan_lines_show_what_their_messages_results_changed(runtime: Runtime, client: TestClient) -> None:
    apply(runtime, opened())
    for i in range(8):
        apply(runtime, decided(i, "instagram"))
    url, h = f"/v1/campaigns/{CAMPAIGN}/plan", {"X-Org-Id": "acme"}
    lines = client.post(url, json={"variants": VARIANTS}, headers=h).json()["lines"]
    assert all(x["learning"] is None for x in lines)  # no results yet: the pooled model
    firsts: dict[str, dict[str, Any]] = {}
    for x in lines:
        firsts.setdefault(x["creator_id"], x)
    for x in firsts.values():  # each creator's first post is in; message A's beat their forecasts threefold
        apply(runtime, _posted(x, 3.0 if x["variant_id"] == "A" else 1.0))
    b = next(x for x in lines if x["variant_id"] == "B" and x not in firsts.values())
    r = client.patch(f"{url}/lines/{b['line_id']}", json={"locked": True, "why": "keep"}, headers=h)
    assert r.status_code == 200, r.text  # an edit re-forecasts the unposted lines
    posted = {x["line_id"] for x in firsts.values()}
    todo = [x for x in client.get(url, headers=h).json()["lines"] if x["line_id"] not in posted]
    a_offsets = [x["learning"]["variant_offset"]["reach"] for x in todo if x["variant_id"] == "A"]
    b_offsets = [x["learning"]["variant_offset"]["reach"] for x in todo if x["variant_id"] == "B"]
    assert a_offsets and b_offsets and min(a_offsets) > 0.1 > max(b_offsets)
