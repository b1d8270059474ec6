from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctxrouter.cli.app import app
from ctxrouter.gateway.keys import KeyRing

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CTXROUTER_DATA_DIR": str(tmp_path / "data")}


def test_create_list_revoke(env: dict[str, str], tmp_path: Path) -> None:
    made = runner.invoke(app, ["keys", "create", "--user", "alice", "--team", "web"], env=env)
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("ctxr_") and "shown only now" in made.stderr
    made_json = runner.invoke(app, ["keys", "create", "--user", "ci", "--json"], env=env)
    created = json.loads(made_json.stdout)
    assert created["user"] == "ci" and created["key"].startswith("ctxr_")

    path = tmp_path / "data" / "gateway-keys.json"
    assert secret not in path.read_text()
    assert KeyRing.load(path).authenticate(secret) is not None

    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"], env=env).stdout)
    assert [(k["user"], k["team"]) for k in listed] == [("alice", "web"), ("ci", None)]
    assert "ctxr_" not in json.dumps(listed)
    table = runner.invoke(app, ["keys", "list"], env=env)
    assert "alice" in table.stdout and listed[0]["id"] in table.stdout

    gone = runner.invoke(app, ["keys", "revoke", listed[0]["id"]], env=env)
    assert gone.exit_code == 0 and "revoked" in gone.stderr
    assert KeyRing.load(path).authenticate(secret) is None
    again = runner.invoke(app, ["keys", "revoke", listed[0]["id"]], env=env)
    assert again.exit_code == 2 and f"no gateway key {listed[0]['id']!r}" in again.stderr


def test_a_key_needs_a_user(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["keys", "create", "--user", "  "], env=env)
    assert result.exit_code == 2 and "must belong to a user" in result.stderr
