"""/docs and /redoc work without internet: every asset comes from the service itself, none from a CDN."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from shared.runtime import create_app
from tandem.services import SERVICES

# src="...", href="...", url: '...' and any absolute URL written anywhere in the page
REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")
ABSOLUTE = re.compile(r"\b(?:https?:)?//[\w.-]+")


@pytest.fixture(params=sorted(SERVICES), scope="module")
def client(request: pytest.FixtureRequest) -> TestClient:
    entry = SERVICES[request.param]
    # Not entered as a context manager: the pages need no lifespan (database, broker, models).
    return TestClient(create_app(entry.spec, entry.settings()))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_no_external_host(client: TestClient, page: str) -> None:
    html = client.get(page).text
    assert ABSOLUTE.findall(html) == []
    references = [a or b for a, b in REFERENCE.findall(html)]
    assert any(r.endswith(".js") for r in references), references
    for ref in references:
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 100, ref


def test_swagger_ui_does_not_send_the_api_to_the_online_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text


def test_every_service_says_what_it_is_for_and_how_to_call_it(client: TestClient) -> None:
    info = client.get("/openapi.json").json()["info"]
    own, calling = info["description"].split("**Calling it.**")
    assert len(own.strip()) > 200 and "X-API-Key" in calling and "Idempotency-Key" in calling
