"""Test doubles that are real implementations, shipped so that tests, benchmarks and users'
own test suites can use them.

- :mod:`ctxrouter.testing.fake_anthropic`: a fake Anthropic Messages API server on loopback,
  with scripted, random and magic-model fault injection.
"""

from ctxrouter.testing.fake_anthropic import (
    FakeAnthropic,
    Fault,
    RecordedRequest,
    fake_anthropic_server,
)

__all__ = ["FakeAnthropic", "Fault", "RecordedRequest", "fake_anthropic_server"]
