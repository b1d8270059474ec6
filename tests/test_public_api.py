"""The flat public API: every exported name resolves, lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ctxrouter


def test_every_exported_name_resolves() -> None:
    for name in ctxrouter.__all__:
        assert getattr(ctxrouter, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        ctxrouter.Nope  # noqa: B018


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, ctxrouter\n"
        "print(sorted(m for m in ('pydantic', 'yaml', 'typer') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
