"""One typed configuration object.

Precedence, highest first: explicit arguments to :meth:`Settings.load` (CLI flags, API
arguments) > environment variables ``CTXROUTER_*`` > the config file > defaults.

The config file is TOML, found at ``$CTXROUTER_CONFIG`` or else
``<user config dir>/ctxrouter/config.toml`` (``~/.config/ctxrouter/config.toml`` on Linux).
Nothing is read at import time: call :meth:`Settings.load` once and hand the result down.
"""

from __future__ import annotations

import contextvars
import os
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ctxrouter.errors import ConfigError, did_you_mean
from ctxrouter.policy.tier import Tier


def default_config_path() -> Path:
    env = os.environ.get("CTXROUTER_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("ctxrouter")) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("ctxrouter"))


class ProviderSettings(BaseModel):
    """Which provider runs calls, and how to reach it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: str = Field(default="simulated", description="simulated (offline) or anthropic.")
    anthropic_api_key: SecretStr | None = Field(
        default=None, description="Else the SDK reads ANTHROPIC_API_KEY."
    )
    anthropic_base_url: str | None = Field(
        default=None, description="Else ANTHROPIC_BASE_URL, else the real API."
    )
    timeout_s: float = Field(default=600.0, gt=0)
    batch_max_wait_s: float = Field(
        default=2.0, gt=0, description="How long a Message Batch collects calls before it is sent."
    )
    batch_poll_interval_s: float = Field(
        default=30.0, gt=0, description="How often a sent Message Batch is polled."
    )
    simulated_seed: int = 0
    simulated_time_scale: float = Field(
        default=0.0, ge=0, description="Real seconds slept per simulated second (0: no wait)."
    )


class RuntimeSettings(BaseModel):
    """Retries, circuit breaking, auto-escalation and telemetry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    retry_max_attempts: int = Field(default=3, ge=1, description="Tries per model.")
    retry_run_max_attempts: int = Field(
        default=8, ge=1, description="Tries per run; the last option may use what is left."
    )
    retry_base_delay_s: float = Field(default=0.5, ge=0)
    retry_max_delay_s: float = Field(default=8.0, ge=0)
    retry_max_retry_after_s: float = Field(default=60.0, ge=0)
    breaker_failure_rate: float = Field(
        default=0.8, gt=0, le=1, description="Failed share of recent calls that opens it."
    )
    breaker_window: int = Field(default=20, ge=1, description="Recent calls judged per model.")
    breaker_min_calls: int = Field(default=10, ge=1)
    breaker_reset_s: float = Field(default=30.0, ge=0, description="How long it stays open.")
    confidence_threshold: float = Field(default=0.7, ge=0, le=1)
    self_assessment: bool = Field(
        default=True, description="Ask the model to end with 'CONFIDENCE: x'."
    )
    max_escalations: int = Field(default=1, ge=0)
    store_text: bool = Field(default=False, description="Store prompt and output text.")
    flush_interval_s: float = Field(default=1.0, gt=0)
    correction_window_days: float = Field(default=7.0, gt=0)
    correction_rate: float = Field(
        default=0.2, ge=0, le=1, description="Corrections per run that escalate an agent."
    )
    correction_min: int = Field(default=3, ge=1)


class TelemetrySettings(BaseModel):
    """Where telemetry goes besides the event store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    otel: bool = Field(
        default=False,
        description="Emit OpenTelemetry spans and metrics (GenAI conventions) per attempt.",
    )


class OverridePolicy(StrEnum):
    """When the gateway may replace the model a client asked for."""

    NEVER = "never"  # observe and record only
    WITHIN_TIERS = "within-tiers"  # only when the asked model's tier is one the agent may use
    ALWAYS = "always"  # whenever the agent's policy routes elsewhere


class GatewaySettings(BaseModel):
    """``ctxrouter serve``: the Anthropic-compatible gateway."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    upstream: str = Field(
        default="https://api.anthropic.com", description="The Anthropic API to forward to."
    )
    agent_dirs: tuple[Path, ...] = Field(
        default=(),
        description="Agent folders the gateway recognises besides the catalog's and Claude "
        "Code's (.claude/agents here and in ~).",
    )
    claude_code_agents: bool = Field(
        default=True, description="Read .claude/agents (working directory) and ~/.claude/agents."
    )
    override: OverridePolicy = Field(
        default=OverridePolicy.WITHIN_TIERS,
        description="May the gateway replace a model the client asked for explicitly?",
    )
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Larger request bodies get a 413."
    )
    keys_file: Path | None = Field(
        default=None,
        description="Gateway keys (hashed); default: gateway-keys.json in the data dir.",
    )
    retry_max_attempts: int = Field(
        default=3, ge=1, description="Tries per model before the first byte reaches the client."
    )
    retry_max_wait_s: float = Field(
        default=30.0, ge=0, description="A longer retry-after is passed to the client instead."
    )


class Settings(BaseSettings):
    """Everything ctxrouter can be told. Frozen: build a new one to change it."""

    model_config = SettingsConfigDict(
        env_prefix="CTXROUTER_",
        frozen=True,
        extra="forbid",
        env_nested_delimiter="__",
    )

    agent_dirs: tuple[Path, ...] = Field(
        default=(), description="Folders of agent .md files; they override built-ins by name."
    )
    include_builtin_agents: bool = Field(
        default=True, description="Load the 67 agents of the default catalog."
    )
    models_file: Path | None = Field(
        default=None,
        description="A YAML price table whose rows extend or override the shipped one.",
    )
    tier_models: dict[Tier, str] = Field(
        default_factory=dict,
        description="Override the model id a tier maps to, e.g. {sonnet = 'claude-sonnet-5'}.",
    )
    pipeline_dirs: tuple[Path, ...] = Field(
        default=(), description="Folders of pipeline .yaml files; they override built-ins by name."
    )
    data_dir: Path = Field(default_factory=default_data_dir, description="Where state is kept.")
    database: Path | None = Field(
        default=None, description="The SQLite event store; default <data_dir>/ctxrouter.db."
    )
    store_url: str | None = Field(
        default=None,
        description="A shared PostgreSQL store (postgresql://...); default: the SQLite file.",
    )
    store_schema: str = Field(
        default="ctxrouter",
        min_length=1,
        description="The PostgreSQL schema of the store_url store (created if missing).",
    )
    alerts_webhook_url: SecretStr | None = Field(
        default=None, description="Slack-compatible webhook notified when alerts fire."
    )
    alerts_rules_file: Path | None = Field(
        default=None, description="Alert rules (YAML) replacing the shipped defaults."
    )
    providers: ProviderSettings = Field(default_factory=ProviderSettings)
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> Settings:
        """Build settings; ``overrides`` that are ``None`` are ignored (unset CLI flags)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        token = _CONFIG_FILE_OVERRIDE.set(config_file) if config_file else None
        try:
            return cls(**given)
        except ValidationError as exc:
            raise ConfigError(
                _format_validation(exc, config_file or default_config_path())
            ) from None
        finally:
            if token is not None:
                _CONFIG_FILE_OVERRIDE.reset(token)

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "ctxrouter.db"

    @property
    def gateway_keys_path(self) -> Path:
        return self.gateway.keys_file or self.data_dir / "gateway-keys.json"


# The config file chosen by Settings.load(config_file=...) for this call only.
_CONFIG_FILE_OVERRIDE: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "ctxrouter_config_file", default=None
)


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the TOML config file, if there is one."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = _CONFIG_FILE_OVERRIDE.get() or default_config_path()
        self._path = path
        self._data: dict[str, Any] = {}
        if path.is_file():
            try:
                self._data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        elif _CONFIG_FILE_OVERRIDE.get() is not None:
            raise ConfigError(f"{path}: config file not found")

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        known = set(self.settings_cls.model_fields)
        unknown = sorted(set(self._data) - known)
        if unknown:
            hints = []
            for key in unknown:
                guess = did_you_mean(key, known)
                hints.append(f"{key!r}" + (f" (did you mean {guess!r}?)" if guess else ""))
            raise ConfigError(f"{self._path}: unknown setting(s): {', '.join(hints)}")
        return dict(self._data)


def _format_validation(exc: ValidationError, path: Path) -> str:
    lines = [f"invalid configuration (arguments, CTXROUTER_* environment, or {path}):"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        lines.append(f"  {loc}: {err['msg']}")
    return "\n".join(lines)


__all__ = [
    "ProviderSettings",
    "RuntimeSettings",
    "Settings",
    "TelemetrySettings",
    "default_config_path",
    "default_data_dir",
]
