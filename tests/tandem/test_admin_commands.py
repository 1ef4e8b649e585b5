"""`tandem keys`, `tandem webhooks add-source` and `tandem topics`: lines and tables for people, `--json` for
programs, secrets shown once with a word saying so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared.broker import Broker
from tandem.cli import app


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Commands writing to a fresh identity database of their own."""
    monkeypatch.setenv("TANDEM_AUTH_DATABASE_URL", f"sqlite:///{tmp_path / 'identity.db'}")
    return CliRunner()


def test_keys_create_list_rotate_revoke_read_as_lines_and_tables(runner: CliRunner) -> None:
    created = runner.invoke(app, ["keys", "create", "acme", "--role", "reviewer", "--person", "ann@acme"])
    assert created.exit_code == 0, created.output
    assert created.output.startswith("New API key:\n")
    assert "organisation  acme" in created.output and "person        ann@acme" in created.output
    assert "shown only this once" in created.output and "{" not in created.output
    listed = runner.invoke(app, ["keys", "list"])
    assert listed.output.splitlines()[0].split() == ["key", "organisation", "role", "person", "state", "name"]
    key_id = listed.output.splitlines()[2].split()[0]
    assert "reviewer" in listed.output and "active" in listed.output
    rotated = runner.invoke(app, ["keys", "rotate", key_id, "--grace-hours", "2"])
    assert rotated.output.startswith(f"New API key replacing {key_id} (which keeps working for 2 h):")
    revoked = runner.invoke(app, ["keys", "revoke", key_id])
    assert revoked.output.strip() == f"Revoked {key_id}: it no longer works anywhere."
    assert "revoked" in runner.invoke(app, ["keys", "list"]).output


def test_keys_json_is_one_document_for_programs(runner: CliRunner) -> None:
    created = runner.invoke(app, ["keys", "create", "acme", "--role", "partner", "--json"])
    issued = json.loads(created.stdout)
    assert issued["org_id"] == "acme" and issued["api_key"]
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    assert [(k["org_id"], k["role"], k["state"]) for k in listed] == [("acme", "partner", "active")]
    revoked = runner.invoke(app, ["keys", "revoke", listed[0]["key_id"], "--json"])
    assert json.loads(revoked.stdout) == {"revoked": listed[0]["key_id"]}


def test_keys_list_without_keys_says_how_to_make_one(runner: CliRunner) -> None:
    assert "tandem keys create ORG --role ROLE" in runner.invoke(app, ["keys", "list"]).output


def test_webhooks_add_source_names_the_source_its_secret_and_where_to_post(runner: CliRunner) -> None:
    added = runner.invoke(app, ["webhooks", "add-source", "acme", "shop platform"])
    assert added.exit_code == 0, added.output
    assert added.output.startswith("New webhook source:\n") and "{" not in added.output
    source_id = next(line.split()[-1] for line in added.output.splitlines() if line.startswith("source id"))
    assert f"/v1/inbound/{source_id}/results" in added.output and "shown only this once" in added.output
    as_json = json.loads(runner.invoke(app, ["webhooks", "add-source", "acme", "p", "--json"]).stdout)
    assert as_json["secret"].startswith("whsec_") and as_json["org_id"] == "acme"


def test_topics_grant_dry_run_is_a_table_of_acls_or_json() -> None:
    plan = CliRunner().invoke(app, ["topics", "grant", "--dry-run"])
    assert plan.exit_code == 0, plan.output
    assert plan.output.splitlines()[0].split() == ["user", "may", "on", "name"]
    acls = json.loads(CliRunner().invoke(app, ["topics", "grant", "--dry-run", "--json"]).stdout)
    assert {"user", "operation", "resource", "name"} <= set(acls[0])
    assert len(plan.output.splitlines()) == len(acls) + 2


def test_topics_create_on_a_broker_says_what_it_created(broker: Broker) -> None:
    again = CliRunner().invoke(app, ["topics", "create", "--bootstrap", broker.bootstrap])
    assert again.exit_code == 0, again.output
    assert again.output.strip() == "Every topic exists already; nothing to create."
    as_json = CliRunner().invoke(app, ["topics", "create", "--bootstrap", broker.bootstrap, "--json"])
    assert json.loads(as_json.stdout) == {"created": []}


def test_topics_create_lists_what_it_created() -> None:
    from tandem.cli import _created_topics

    assert _created_topics({"created": ["a.v1", "a.v1.dlq"]}) == "Created 2 topic(s):\n  a.v1\n  a.v1.dlq"
