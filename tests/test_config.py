"""The one typed configuration: moved settings name their replacement, folder lists from the
environment, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxrouter.config import RENAMED, Settings
from ctxrouter.errors import ConfigError


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_a_moved_setting_in_a_config_file_names_its_replacement(
    old: str, new: str, tmp_path: Path
) -> None:
    section, key = old.split(".")
    config = tmp_path / "config.toml"
    value = "[]" if key == "agent_dirs" else ("true" if key == "claude_code_agents" else "3")
    config.write_text(f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as caught:
        Settings.load(config)
    message = str(caught.value)
    assert f"{old}: this setting was renamed: use {new} instead" in message
    assert str(config) in message and "\n" not in message


def test_a_moved_setting_in_the_environment_names_its_replacement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CTXROUTER_GATEWAY__RETRY_MAX_WAIT_S", "5")
    with pytest.raises(ConfigError, match=r"use retry\.max_retry_after_s instead"):
        Settings.load()


def test_one_set_of_retry_settings() -> None:
    settings = Settings.load(retry={"max_attempts": 5, "max_retry_after_s": 10})
    assert (settings.retry.max_attempts, settings.retry.max_retry_after_s) == (5, 10)
    runtime, gateway = type(settings.runtime).model_fields, type(settings.gateway).model_fields
    assert not any(name.startswith(("retry_", "breaker_")) for name in runtime)
    assert not any(name.startswith("retry_") for name in gateway)


def test_folder_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTXROUTER_AGENT_DIRS", "/a:/b")
    monkeypatch.setenv("CTXROUTER_PIPELINE_DIRS", "/p")
    settings = Settings.load()
    assert settings.agent_dirs == (Path("/a"), Path("/b"))
    assert settings.pipeline_dirs == (
        Path(
            "/p",
        ),
    )
    monkeypatch.setenv("CTXROUTER_AGENT_DIRS", "/a::/b")
    with pytest.raises(ConfigError) as caught:
        Settings.load()
    assert "CTXROUTER_AGENT_DIRS='/a::/b': entry 2 is empty" in str(caught.value)
    assert "\n" not in str(caught.value)
