"""The 2022 ranking files, imported as a user would: audience-market searches find them, briefs over them
give explained shortlists that name the data's date, and older files never overwrite newer figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.discovery.apputil import ranking_client

# Newest first, then older and undated ones: the order that once let old figures win.
ORDER = ("2022-11", "2022-06", "undated", "2022-09")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from ranking_client(tmp_path_factory.mktemp("real"), ORDER)


def _search(client: TestClient, **body: Any) -> list[dict[str, Any]]:
    response = client.post("/v1/search", json={"limit": 200, **body})
    assert response.status_code == 200, response.text
    hits: list[dict[str, Any]] = response.json()["hits"]
    return hits


def test_audience_country_is_a_searchable_market_not_the_home_country(client: TestClient) -> None:
    us = _search(client, audience_markets=["US"], platforms=["instagram"])
    assert len(us) == 200
    assert all(h["top_audience_market"] == "US" and h["home_market"] == "" for h in us)
    assert all(any("top country" in n for n in h["confidence_notes"]) for h in us)
    chile = _search(client, audience_markets=["CL"])
    assert chile, "countries beyond the old short list (Chile) are markets too"


def test_newest_measurement_wins_and_freshness_shows_its_date(client: TestClient) -> None:
    cristiano = client.get("/v1/creators/in-cristiano").json()
    assert cristiano["measured_on"] == date(2022, 11, 1).isoformat(), "June, undated and September came later"
    assert cristiano["data_as_of"].startswith("2022-11-01")
    september_only = client.get("/v1/creators/yo-tseries").json()
    assert september_only["measured_on"] in ("2022-11-01", "2022-09-01")


def test_brief_over_the_real_files_gives_a_shortlist_naming_the_data_date(client: TestClient) -> None:
    brief = {"name": "US music launch", "product": "headphones", "category": "music", "target_markets": ["US"],
             "platforms": ["instagram", "youtube"], "budget_usd": 50000, "tier": "volume",
             "shortlist_size": 10}  # fmt: skip
    response = client.post("/v1/briefs", json=brief)
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["candidates_considered"] > 0 and len(out["entries"]) == 10
    dated = 0
    for entry in out["entries"]:
        top = next(r for r in entry["reasons"] if r["code"] == "top_audience_country")
        if entry["data_as_of"].startswith("2022-"):
            dated += 1
            day = entry["data_as_of"][:10]
            assert f"US is the audience's top country in the source's figures of {day}" in top["text"]
        else:  # only in an undated file: freshness is when it arrived, and the reason says so
            assert "US is the audience's top country in an undated source" in top["text"]
        assert entry["confidence"] == "low"
        assert any("shares not measured" in n for n in entry["confidence_notes"])
    assert dated >= 5, "most of the shortlist comes from the dated rankings"
