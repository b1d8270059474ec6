"""Validators: pluggable checks that accept or reject an answer.

A validator returns a :class:`Verdict`; a rejected answer (or one whose confidence is under the
threshold) makes the executor re-run the task on the escalation tier. Built in:

- :class:`JsonSchemaValidator` — the answer (or its first fenced/braced JSON) must validate;
- :class:`CommandValidator` — run a command (a test suite, a linter) with the answer in
  ``$CTXROUTER_ANSWER_FILE`` and on stdin; exit code 0 accepts;
- :class:`CallableValidator` — any Python function returning bool, a float confidence, or a
  Verdict.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    confidence: float | None = None
    reason: str = ""
    validator: str = ""


@runtime_checkable
class Validator(Protocol):
    name: str

    async def check(self, answer: str) -> Verdict: ...


_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)```", re.S)


def extract_json(answer: str) -> Any:
    """Parse the answer as JSON, else its first ```json fence, else its outermost {...}."""
    candidates = [answer.strip()]
    candidates.extend(m.group(1) for m in _FENCE.finditer(answer))
    start, end = answer.find("{"), answer.rfind("}")
    if 0 <= start < end:
        candidates.append(answer[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise ValueError("the answer contains no JSON")


class JsonSchemaValidator:
    def __init__(self, schema: dict[str, Any], name: str = "json-schema") -> None:
        import jsonschema

        jsonschema.Draft202012Validator.check_schema(schema)
        self._validator = jsonschema.Draft202012Validator(schema)
        self.name = name

    async def check(self, answer: str) -> Verdict:
        try:
            data = extract_json(answer)
        except ValueError as exc:
            return Verdict(False, reason=str(exc), validator=self.name)
        errors = sorted(self._validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.path) or "(root)"
            return Verdict(False, reason=f"{where}: {first.message}", validator=self.name)
        return Verdict(True, validator=self.name)


class CommandValidator:
    """Run ``argv``; the answer is on stdin and in the file ``$CTXROUTER_ANSWER_FILE``."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        timeout_s: float = 300.0,
        cwd: Path | None = None,
        name: str | None = None,
    ) -> None:
        if not argv:
            raise ValueError("CommandValidator needs a command")
        self.argv = list(argv)
        self.timeout_s = timeout_s
        self.cwd = cwd
        self.name = name or f"command:{Path(self.argv[0]).name}"

    async def check(self, answer: str) -> Verdict:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write(answer)
            path = handle.name
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self.cwd,
                env={**os.environ, "CTXROUTER_ANSWER_FILE": path},
            )
            try:
                out, _ = await asyncio.wait_for(
                    proc.communicate(answer.encode("utf-8")), self.timeout_s
                )
            except TimeoutError:
                proc.kill()
                await proc.wait()
                return Verdict(
                    False, reason=f"timed out after {self.timeout_s}s", validator=self.name
                )
        except OSError as exc:
            return Verdict(
                False, reason=f"could not run {self.argv[0]}: {exc}", validator=self.name
            )
        finally:
            Path(path).unlink(missing_ok=True)
        tail = out.decode("utf-8", "replace").strip().splitlines()[-3:]
        if proc.returncode == 0:
            return Verdict(True, validator=self.name)
        return Verdict(
            False,
            reason=f"exit code {proc.returncode}" + (f": {' | '.join(tail)}" if tail else ""),
            validator=self.name,
        )


CheckResult = bool | float | Verdict


class CallableValidator:
    """Wrap ``fn(answer)`` returning bool, a confidence in [0, 1], or a Verdict (sync or async)."""

    def __init__(
        self,
        fn: Callable[[str], CheckResult | Awaitable[CheckResult]],
        name: str | None = None,
        threshold: float = 0.7,
    ) -> None:
        self.fn = fn
        self.threshold = threshold
        self.name: str = name or str(getattr(fn, "__name__", "callable"))

    async def check(self, answer: str) -> Verdict:
        result = self.fn(answer)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, Verdict):
            return result
        if isinstance(result, bool):
            return Verdict(result, validator=self.name, reason="" if result else "returned False")
        confidence = float(result)
        ok = confidence >= self.threshold
        reason = "" if ok else f"confidence {confidence:.2f} < {self.threshold}"
        return Verdict(ok, confidence=confidence, reason=reason, validator=self.name)
