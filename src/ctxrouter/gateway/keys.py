"""Gateway keys: who may use a gateway that listens beyond loopback.

A client sends its key in ``x-ctxrouter-key`` (Claude Code:
``ANTHROPIC_CUSTOM_HEADERS="x-ctxrouter-key: ctxr_..."``); the Anthropic key in ``x-api-key``
or ``Authorization`` still passes through to the upstream. Only a SHA-256 of each key is kept,
in a JSON file (mode 0600) that is rewritten atomically; each key maps to a user and, when
given, a team, which budgets and telemetry use.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from ctxrouter.errors import ConfigError, InputError

KEY_HEADER = "x-ctxrouter-key"
KEY_PREFIX = "ctxr_"
FILE_VERSION = 1


@dataclass(frozen=True, slots=True)
class GatewayKey:
    id: str  # public, for listing and revoking
    sha256: str  # of the secret
    user: str
    team: str | None = None
    created: float = 0.0


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyRing:
    """The keys of one file. ``authenticate`` is what the gateway calls per request."""

    def __init__(self, keys: Mapping[str, GatewayKey] | None = None) -> None:
        self._keys = dict(keys or {})  # by id
        self._by_digest = {key.sha256: key for key in self._keys.values()}

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[GatewayKey]:
        return iter(sorted(self._keys.values(), key=lambda key: key.created))

    def authenticate(self, secret: str | None) -> GatewayKey | None:
        if not secret:
            return None
        return self._by_digest.get(digest(secret))

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        """The keys in ``path``; an empty ring when the file does not exist."""
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the gateway keys: {exc}") from None
        try:
            data = json.loads(raw)
            if data.get("version") != FILE_VERSION:
                raise ValueError(f"version {data.get('version')!r}, expected {FILE_VERSION}")
            keys = [GatewayKey(**entry) for entry in data["keys"]]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ConfigError(f"{path}: not a gateway keys file: {exc}") from None
        return cls({key.id: key for key in keys})

    def save(self, path: Path) -> None:
        """Write atomically (a crash leaves the old file or the new one), readable by the
        owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": FILE_VERSION, "keys": [asdict(key) for key in self]}
        fd, tmp = tempfile.mkstemp(prefix=".gateway-keys-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(payload, out, indent=2)
                out.write("\n")
            Path(tmp).chmod(0o600)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def create(self, user: str, team: str | None = None) -> tuple[GatewayKey, str]:
        """A new key for ``user``: the stored entry and the secret (shown once, never kept)."""
        if not user.strip():
            raise InputError("--user: a key must belong to a user (or service) name")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = GatewayKey(
            id="key_" + secrets.token_hex(6),
            sha256=digest(secret),
            user=user.strip(),
            team=team.strip() if team else None,
            created=time.time(),
        )
        self._keys[key.id] = key
        self._by_digest[key.sha256] = key
        return key, secret

    def revoke(self, key_id: str) -> GatewayKey:
        key = self._keys.pop(key_id, None)
        if key is None:
            known = ", ".join(self._keys) or "none"
            raise InputError(f"no gateway key {key_id!r} (keys: {known})")
        del self._by_digest[key.sha256]
        return key


__all__ = ["KEY_HEADER", "GatewayKey", "KeyRing", "digest"]
