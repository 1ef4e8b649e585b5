"""The retrospective: known truth (contributions add up, the injected cause ranks first), and closing a
campaign through its event: computed once, published once, readable over REST."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from services.forecast.campaigns.retrospective import DIMENSIONS, Posted, decompose
from services.forecast.models import ForecastRecord
from shared.events import CampaignCloseRequested, CampaignResultReported, ForecastAdjustmentProposed
from shared.runtime import Runtime
from tests.forecast.campaignutil import CAMPAIGN, ORG, VARIANTS, apply, campaign_with_creators, staged

START = date(2026, 12, 7)
PLATFORMS = ("instagram", "tiktok", "youtube")


def _lines(rng: np.random.Generator) -> list[dict[str, Any]]:
    """40 creators x 3 posts spread over platforms, formats, markets, messages and four weeks."""
    out = []
    for c in range(40):
        for k in range(3):
            out.append({"line_id": f"l-{c}-{k}", "creator_id": f"cr-{c}", "platform": PLATFORMS[(c + k) % 3],
                        "format": ("reel", "post")[k % 2], "market": ("RU", "KZ")[c % 2],
                        "variant_id": ("A", "B")[(c // 2) % 2],
                        "scheduled_on": (START + timedelta(days=int(rng.integers(0, 28)))).isoformat(),
                        "forecast_p50": float(rng.uniform(2_000, 20_000))})  # fmt: skip
    return out


def _posted(cause: dict[tuple[str, str], float], seed: int) -> list[Posted]:
    """Actual = forecast x the injected factors of the line's values x noise (+-5%)."""
    rng = np.random.default_rng(seed)
    out = []
    for line in _lines(rng):
        keys = {"creator": line["creator_id"], "platform": line["platform"], "format": line["format"],
                "market": line["market"], "message": line["variant_id"]}  # fmt: skip
        factor = float(np.prod([cause.get((d, v), 1.0) for d, v in keys.items()]))
        out.append(
            Posted(line, line["forecast_p50"], line["forecast_p50"] * factor * rng.uniform(0.95, 1.05))
        )
    return out


@pytest.mark.parametrize(("cause", "factor"), [
    (("creator", "cr-7"), 0.25),
    (("platform", "tiktok"), 0.6),
    (("format", "post"), 0.7),
    (("market", "KZ"), 0.7),
    (("message", "B"), 1.5),
])  # fmt: skip
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_contributions_add_up_and_the_largest_injected_cause_ranks_first(
    cause: tuple[str, str], factor: float, seed: int
) -> None:
    """The cause, plus a smaller second one (another creator at 80%) and +-5% noise on every line."""
    posted = _posted({cause: factor, ("creator", "cr-2"): 0.8}, seed)
    total = sum(p.actual - p.forecast for p in posted)
    contributions = decompose(posted, START)
    per_dimension: dict[str, float] = defaultdict(float)
    for c in contributions:
        per_dimension[c["dimension"]] += c["miss"]
    assert set(per_dimension) == set(DIMENSIONS)
    for d, miss in per_dimension.items():
        assert miss == pytest.approx(total, rel=1e-4, abs=1.0), d
    first = contributions[0]
    assert (first["dimension"], first["value"]) == cause
    assert np.sign(first["explained_miss"]) == np.sign(factor - 1)
    assert abs(first["explained_miss"]) > 0.5 * abs(first["miss"])


def test_an_accurate_campaign_explains_almost_nothing() -> None:
    posted = _posted({}, 4)
    assert all(
        abs(c["explained_miss"]) < 0.05 * sum(p.forecast for p in posted) for c in decompose(posted, START)
    )


# --- closing through the event ---------------------------------------------------------------------------


def _close(runtime: Runtime) -> None:
    apply(runtime, CampaignCloseRequested(campaign_id=CAMPAIGN, closed_by="olga", reason="ended",
                                          closed_at=datetime(2027, 1, 4, tzinfo=UTC)))  # fmt: skip


def test_close_computes_publishes_once_and_freezes_the_plan(runtime: Runtime, client: TestClient) -> None:
    campaign_with_creators(runtime, 6)
    plan = client.post(
        f"/v1/campaigns/{CAMPAIGN}/plan", json={"variants": VARIANTS}, headers={"X-Org-Id": ORG}
    ).json()
    posted = plan["lines"][:8]
    for i, line in enumerate(posted):
        p50 = next(f["p50"] for f in line["forecast"] if f["metric"] == "reach")
        factor = 0.3 if line["creator_id"] == posted[0]["creator_id"] else 1.0
        apply(runtime, CampaignResultReported(
            result_id=f"r-{i}", campaign_id=CAMPAIGN, creator_id=line["creator_id"], platform=line["platform"],
            format=line["format"], market=line["market"], reach=p50 * factor, engagements=10, clicks=2,
            conversions=0, spend_usd=line["cost_usd"], posted_at=datetime(2026, 12, 9, tzinfo=UTC),
            line_id=line["line_id"], variant=line["variant_id"]))  # fmt: skip
    with runtime.db.transaction() as session:
        record = session.exec(
            select(ForecastRecord).where(ForecastRecord.creator_id == posted[0]["creator_id"])
        ).one()
    apply(runtime, ForecastAdjustmentProposed(adjustment_id="adj-1", forecast_id=record.forecast_id, metric="reach",
                                              multiplier=0.5, reason="winter lull", market="RU", author="marat",
                                              proposed_at=datetime(2026, 12, 8, tzinfo=UTC)))  # fmt: skip
    _close(runtime)
    _close(runtime)  # closing twice changes nothing
    [retro] = staged(runtime, "campaign.retrospective_ready")
    assert retro["metric"] == "reach" and len(retro["lines"]) == len(plan["lines"])
    assert retro["actual_total"] < retro["forecast_total"]
    assert sum(1 for x in retro["lines"] if x["actual"] is not None) == len(posted)
    assert retro["contributions"][0]["value"] == posted[0]["creator_id"]
    first = next(x for x in retro["lines"] if x["line_id"] == posted[0]["line_id"])
    assert (first["decided_by"], first["automated"]) == ("ivan", False)
    [push] = first["push_backs"]
    assert (push["author"], push["multiplier"], push["right"]) == (
        "marat",
        0.5,
        True,
    )  # 30% of forecast: halving was right
    got = client.get(f"/v1/campaigns/{CAMPAIGN}/retrospective", headers={"X-Org-Id": ORG}).json()
    assert got["closed_by"] == "olga" and got["forecast_total"] == retro["forecast_total"]
    edit = client.patch(f"/v1/campaigns/{CAMPAIGN}/plan/lines/{plan['lines'][-1]['line_id']}", json={"locked": True},
                        headers={"X-Org-Id": ORG})  # fmt: skip
    assert edit.status_code == 409


def test_retrospective_before_close_is_404(runtime: Runtime, client: TestClient) -> None:
    campaign_with_creators(runtime, 2)
    r = client.get(f"/v1/campaigns/{CAMPAIGN}/retrospective", headers={"X-Org-Id": ORG})
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "campaign_id"
