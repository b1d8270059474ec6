"""Every data file the package reads is shipped in its wheel (package-data in pyproject.toml):
an editable install reads the source tree and would never notice one left out."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "ctxrouter"


def test_every_data_file_is_package_data() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["ctxrouter"]
    shipped = {p for pattern in patterns for p in PACKAGE.glob(pattern)}
    data = {
        p
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    }
    left_out = sorted(str(p.relative_to(PACKAGE)) for p in data - shipped)
    assert not left_out, f"not in [tool.setuptools.package-data]: {left_out}"
