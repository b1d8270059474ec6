"""Test doubles that are real implementations, shipped so that tests, benchmarks and users'
own test suites can use them.

- :mod:`ctxrouter.testing.fake_anthropic`: a fake Anthropic Messages API server on loopback,
  with scripted, random and magic-model fault injection; in a process of its own with
  ``python -m ctxrouter.testing.fake_anthropic``.
- :mod:`ctxrouter.testing.scripted`: a provider whose answers and failures are given in advance.

What only ctxrouter's own suite needs (the pinned npm tools, ccusage, the Claude Code CLI
driver) lives in its ``tests/harness/``.
"""

from ctxrouter.testing.fake_anthropic import (
    FakeAnthropic,
    Fault,
    RecordedRequest,
    fake_anthropic_server,
)

__all__ = ["FakeAnthropic", "Fault", "RecordedRequest", "fake_anthropic_server"]
