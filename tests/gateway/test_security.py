"""Gateway keys, body limits and bad input."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from ctxrouter.errors import ConfigError, InputError
from ctxrouter.gateway.keys import KeyRing, digest

from .conftest import StartGateway

BODY = {
    "model": "claude-sonnet-5-5",
    "max_tokens": 8,
    "messages": [{"role": "user", "content": "hi"}],
}


def test_keys_are_stored_hashed_and_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    ring = KeyRing()
    key, secret = ring.create("alice", team="platform")
    ring.save(path)
    stored = path.read_text()
    assert secret not in stored and digest(secret) in stored
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = KeyRing.load(path)
    assert loaded.authenticate(secret) == key
    assert loaded.authenticate(secret + "x") is None and loaded.authenticate(None) is None
    loaded.revoke(key.id)
    loaded.save(path)
    assert KeyRing.load(path).authenticate(secret) is None
    with pytest.raises(InputError, match="no gateway key 'key_nope'"):
        loaded.revoke("key_nope")


def test_a_broken_keys_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"version": 1, "keys": [{"id": "k"}]}))
    with pytest.raises(ConfigError, match=f"{path}: not a gateway keys file"):
        KeyRing.load(path)


def test_keys_guard_every_route_but_healthz(start_gateway: StartGateway) -> None:
    ring = KeyRing()
    _, secret = ring.create("alice", team="platform")
    setup = start_gateway(keys=ring)
    url = f"{setup.url}/v1/messages"
    missing = httpx.post(url, json=BODY, headers={"x-api-key": "sk-test"})
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "authentication_error"
    wrong = httpx.post(url, json=BODY, headers={"x-ctxrouter-key": "ctxr_wrong"})
    assert wrong.status_code == 401 and "unknown gateway key" in wrong.json()["error"]["message"]
    assert httpx.get(f"{setup.url}/v1/models").status_code == 401
    assert httpx.get(f"{setup.url}/healthz").status_code == 200
    assert setup.fake.requests == []  # nothing reached the upstream
    ok = httpx.post(url, json=BODY, headers={"x-ctxrouter-key": secret, "x-api-key": "sk-test"})
    assert ok.status_code == 200
    assert "x-ctxrouter-key" not in setup.fake.requests[-1].headers  # never forwarded
    assert setup.events[-1].user == "alice"


def test_a_body_over_the_limit_is_a_413_before_the_upstream(start_gateway: StartGateway) -> None:
    setup = start_gateway(settings={"gateway": {"max_body_bytes": 2048}})
    big = {**BODY, "messages": [{"role": "user", "content": "x" * 4096}]}
    answer = httpx.post(f"{setup.url}/v1/messages", json=big, headers={"x-api-key": "sk-test"})
    assert answer.status_code == 413
    assert answer.json()["error"]["type"] == "request_too_large"
    assert "2048 bytes" in answer.json()["error"]["message"]

    def chunks() -> object:  # no content-length: the limit holds on what is actually sent
        for _ in range(4):
            yield b"x" * 1024

    streamed = httpx.post(f"{setup.url}/v1/messages", content=chunks())  # type: ignore[arg-type]
    assert streamed.status_code == 413
    assert setup.fake.requests == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[1, 2]", "the body must be a JSON object"),
        (b'{"max_tokens": 1, "messages": []}', "model: Field required"),
        (b"\xff\xfe", "malformed JSON body"),
    ],
)
def test_bad_bodies_get_a_400_in_the_anthropic_format(
    start_gateway: StartGateway, raw: bytes, message: str
) -> None:
    setup = start_gateway()
    answer = httpx.post(f"{setup.url}/v1/messages", content=raw)
    assert answer.status_code == 400
    assert answer.json()["type"] == "error"
    assert message in answer.json()["error"]["message"]
    assert setup.fake.requests == [] and setup.events == []
