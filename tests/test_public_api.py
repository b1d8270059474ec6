"""The flat public API: every exported name resolves, lazily."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import ctxrouter

ROOT = Path(__file__).resolve().parents[1]


def test_every_exported_name_resolves() -> None:
    for name in ctxrouter.__all__:
        assert getattr(ctxrouter, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        ctxrouter.Nope  # noqa: B018


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, ctxrouter\n"
        "heavy = ('pydantic', 'yaml', 'typer', 'importlib.metadata')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_version_is_the_installed_distributions() -> None:
    """pyproject.toml is the one place the version is written: bump it there, reinstall
    (``make test`` does), and ``ctxrouter.__version__`` follows."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert ctxrouter.__version__ == version("ctxrouter") == declared


def test_the_version_of_a_package_not_installed_says_so(tmp_path: Path) -> None:
    package = tmp_path / "ctxrouter"
    package.mkdir()
    shutil.copy(Path(ctxrouter.__file__), package / "__init__.py")
    code = "import ctxrouter; print(ctxrouter.__file__, ctxrouter.__version__)"
    out = subprocess.run(  # -S: no site-packages, so no installed ctxrouter's metadata
        [sys.executable, "-S", "-P", "-c", code],
        env={"PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == [str(package / "__init__.py"), "0+unknown"]
