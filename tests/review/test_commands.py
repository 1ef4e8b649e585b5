"""`tandem review ...`: the simulator, the portfolio and closing a campaign from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from pytest import MonkeyPatch
from typer.testing import CliRunner

from tandem.commands import review as review_commands
from tandem.commands.review import app
from tests.review import campaign_helpers as ch
from tests.review import helpers
from tests.review.test_campaigns import STRATEGIST


def test_simulate_prints_the_month_and_the_mix_table() -> None:
    args = ["simulate", "--campaigns", "50", "--finalists", "20", "--strategic-share", "0.2",
            "--in-house", "3", "--freelance", "4", "--capacity", "20"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("1,000 finalists -> 762 human reviews (152 h), 53% seen by people")
    assert "capacity 2,940" in first
    assert "100% |   2,150 |      100%" in result.output


def test_portfolio_prints_a_table_or_json_and_close_says_what_happened(
    tmp_path: Path, monkeypatch: MonkeyPatch
) -> None:
    for client in ch.client_for(tmp_path, STRATEGIST):
        monkeypatch.setattr(review_commands, "httpx", _Routed(client))
        bus = ch.Bus(ch.runtime_of(client))
        bus.send(ch.opened("cmp-1", name="Summer sun care", budget_usd=9_000))
        bus.send(ch.plan("cmp-1", ["cr-1"], approved=True))
        bus.send(ch.result("cmp-1", "cr-1", 0, 12_000, spend=1_500))
        table = CliRunner().invoke(app, ["portfolio", "--brand", "SolBright", "--org", helpers.ORG])
        assert table.exit_code == 0, table.output
        assert (
            "1 campaign(s)" in table.output and "$1,500 / $9,000" in table.output and "1.20x" in table.output
        )
        as_json = CliRunner().invoke(app, ["portfolio", "--json", "--org", helpers.ORG])
        assert json.loads(as_json.output)["campaigns"][0]["stage"] == "live"
        closed = CliRunner().invoke(app, ["close", "cmp-1", "--reason", "done", "--org", helpers.ORG])
        again = CliRunner().invoke(app, ["close", "cmp-1", "--org", helpers.ORG])
        assert "cmp-1 closed by maria@brand" in closed.output and "already closed" in again.output
        bad = CliRunner().invoke(app, ["portfolio", "--stage", "launched", "--org", helpers.ORG])
        assert bad.exit_code == 1 and "refused (422)" in bad.output and "Traceback" not in bad.output
        missing = CliRunner().invoke(app, ["close", "nope", "--org", helpers.ORG])
        assert missing.exit_code == 1 and "no campaign 'nope'" in missing.output


class _Routed:
    """httpx's module functions, answered by the in-process app."""

    HTTPError = httpx.HTTPError

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.get(url.removeprefix("http://127.0.0.1:8004"), **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.client.post(url.removeprefix("http://127.0.0.1:8004"), **kw)
