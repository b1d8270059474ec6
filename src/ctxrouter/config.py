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
from typing import Annotated, Any

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

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


class RetrySettings(BaseModel):
    """How every model call is retried, spaced and rested: the runtime and the gateway use the
    same attempt engine (:mod:`ctxrouter.execution.attempts`), so one set of knobs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=3, ge=1, description="Tries per model.")
    run_max_attempts: int = Field(
        default=8, ge=1, description="Tries per run or request; the last option may use the rest."
    )
    base_delay_s: float = Field(default=0.5, ge=0, description="Backoff before the 2nd try.")
    max_delay_s: float = Field(default=8.0, ge=0, description="Backoff cap (full jitter below).")
    max_retry_after_s: float = Field(
        default=60.0,
        ge=0,
        description="A longer retry-after moves on to the fallback (the last option passes it on).",
    )
    breaker_failure_rate: float = Field(
        default=0.8, gt=0, le=1, description="Failed share of recent calls that opens a circuit."
    )
    breaker_window: int = Field(default=20, ge=1, description="Recent calls judged per model.")
    breaker_min_calls: int = Field(default=10, ge=1)
    breaker_reset_s: float = Field(default=30.0, ge=0, description="How long it stays open.")


class RuntimeSettings(BaseModel):
    """Auto-escalation, corrections and telemetry of runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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
    correction_refresh_s: float = Field(
        default=30.0,
        gt=0,
        description="How often a long-running process (gateway, hook helper) re-reads them.",
    )


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


class Settings(BaseSettings):
    """Everything ctxrouter can be told. Frozen: build a new one to change it."""

    model_config = SettingsConfigDict(
        env_prefix="CTXROUTER_",
        frozen=True,
        extra="forbid",
        env_nested_delimiter="__",
    )

    agent_dirs: Annotated[tuple[Path, ...], NoDecode] = Field(
        default=(),
        description="Folders of agent .md files; they override built-ins and Claude Code's "
        "folders by name (CTXROUTER_AGENT_DIRS: folders separated by the OS path separator).",
    )
    claude_code_agents: bool = Field(
        default=True,
        description="Also read Claude Code's agent folders: ~/.claude/agents, then "
        ".claude/agents in the working directory.",
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
    pipeline_dirs: Annotated[tuple[Path, ...], NoDecode] = Field(
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
    retry: RetrySettings = Field(default_factory=RetrySettings)
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)

    @field_validator("agent_dirs", "pipeline_dirs", mode="before")
    @classmethod
    def _split_folder_list(cls, value: Any, info: ValidationInfo) -> Any:
        """A string (the environment's ``/a:/b``) is a list of folders split on the OS path
        separator; a list (TOML, arguments) is taken as it is."""
        if not isinstance(value, str):
            return value
        return split_folders(value, f"CTXROUTER_{(info.field_name or '').upper()}")

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


# Settings that moved: the old key (as a dotted path) and where it lives now.
RENAMED: dict[str, str] = {
    "runtime.retry_max_attempts": "retry.max_attempts",
    "runtime.retry_run_max_attempts": "retry.run_max_attempts",
    "runtime.retry_base_delay_s": "retry.base_delay_s",
    "runtime.retry_max_delay_s": "retry.max_delay_s",
    "runtime.retry_max_retry_after_s": "retry.max_retry_after_s",
    "runtime.breaker_failure_rate": "retry.breaker_failure_rate",
    "runtime.breaker_window": "retry.breaker_window",
    "runtime.breaker_min_calls": "retry.breaker_min_calls",
    "runtime.breaker_reset_s": "retry.breaker_reset_s",
    "gateway.retry_max_attempts": "retry.max_attempts",
    "gateway.retry_max_wait_s": "retry.max_retry_after_s",
    "gateway.agent_dirs": "agent_dirs",
    "gateway.claude_code_agents": "claude_code_agents",
}


def split_folders(value: str, where: str) -> list[str]:
    """``/a:/b`` (``;`` on Windows) as folders; an empty entry is an error naming ``where``."""
    parts = value.split(os.pathsep)
    for index, part in enumerate(parts, start=1):
        if not part.strip():
            raise ValueError(
                f"{where}={value!r}: entry {index} is empty; give folders separated by "
                f"{os.pathsep!r}"
            )
        if "\x00" in part:
            raise ValueError(f"{where}: entry {index} holds a NUL character")
    return parts


def _format_validation(exc: ValidationError, path: Path) -> str:
    """One line per problem (one line in all when there is one), each naming the setting."""
    head = f"invalid configuration (arguments, CTXROUTER_* environment, or {path})"
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        moved = RENAMED.get(loc)
        if moved is not None and err["type"] == "extra_forbidden":
            problems.append(f"{loc}: this setting was renamed: use {moved} instead")
        else:
            problems.append(f"{loc}: {err['msg'].removeprefix('Value error, ')}")
    if len(problems) == 1:
        return f"{head}: {problems[0]}"
    return "\n".join([f"{head}:", *(f"  {p}" for p in problems)])


__all__ = [
    "RENAMED",
    "ProviderSettings",
    "RetrySettings",
    "RuntimeSettings",
    "Settings",
    "TelemetrySettings",
    "default_config_path",
    "default_data_dir",
]
