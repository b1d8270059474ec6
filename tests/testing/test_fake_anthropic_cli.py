"""``python -m ctxrouter.testing.fake_anthropic``: a real process, the official SDK as client."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import anthropic
import pytest

from ctxrouter.testing.fake_anthropic import main

MODEL = "claude-haiku-4-5"


@contextmanager
def fake_process(*options: str, stop: signal.Signals = signal.SIGTERM) -> Iterator[str]:
    """The fake in a process of its own, with ``--port 0``; yields the URL it prints."""
    command = [sys.executable, "-m", "ctxrouter.testing.fake_anthropic", "--port", "0", *options]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        try:
            yield process.stdout.readline().strip()
        finally:
            process.send_signal(stop)
            returncode = process.wait()
            rest = process.stdout.read()
    assert returncode == 0
    assert rest == ""  # the URL is all it prints


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_module_serves_the_sdk_until_a_signal(stop: signal.Signals) -> None:
    with (
        fake_process("--reply", "from another process", stop=stop) as url,
        anthropic.Anthropic(api_key="test", base_url=url, max_retries=0) as client,
    ):
        message = client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hello"}]
        )

    assert url.startswith("http://127.0.0.1:")
    assert int(url.rpartition(":")[2]) > 0
    assert message.content[0].type == "text"
    assert message.content[0].text == "from another process"
    assert message.model == MODEL


def test_module_injects_random_faults_and_checks_the_key() -> None:
    with fake_process("--rate", "529=1.0", "--seed", "1", "--api-key", "sk-right") as url:
        with (
            anthropic.Anthropic(api_key="sk-wrong", base_url=url, max_retries=0) as wrong,
            pytest.raises(anthropic.AuthenticationError),
        ):
            wrong.models.list()
        with (
            anthropic.Anthropic(api_key="sk-right", base_url=url, max_retries=0) as client,
            pytest.raises(anthropic.OverloadedError),
        ):
            client.messages.create(
                model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hello"}]
            )


@pytest.mark.parametrize(
    ("rates", "says"),
    [
        (["529"], "is not FAULT=RATE"),
        (["529=often"], "is not FAULT=RATE"),
        (["200=0.5"], "is not an error status"),
        (["529=0.7", "429=0.5"], "add up to"),
    ],
)
def test_bad_rates_are_usage_errors(
    rates: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([option for rate in rates for option in ("--rate", rate)])

    assert exited.value.code == 2
    assert says in capsys.readouterr().err
