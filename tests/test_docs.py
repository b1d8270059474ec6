"""The docs show real output: every ``$ ctxrouter ...`` block is re-run and compared."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("render_docs", ROOT / "scripts" / "render_docs.py")
assert spec is not None and spec.loader is not None
render_docs = importlib.util.module_from_spec(spec)
sys.modules["render_docs"] = render_docs
spec.loader.exec_module(render_docs)


@pytest.mark.parametrize("path", render_docs.documents(), ids=lambda p: p.name)
def test_console_blocks_are_real_output(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    blocks = render_docs.BLOCK.findall(text)
    for match in render_docs.BLOCK.finditer(text):
        expected = render_docs.run(match.group("cmd"))
        assert match.group("out") == expected, (
            f"{path.name}: the block of `ctxrouter {match.group('cmd')}` is stale; "
            "run `.venv/bin/python scripts/render_docs.py`"
        )
    if path.name == "README.md":
        assert blocks, "README.md shows no real output"


PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("path", render_docs.documents(), ids=lambda p: p.name)
def test_python_examples_run(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every ```python block of the docs runs as written (each in a fresh namespace)."""
    for number, code in enumerate(PYTHON_BLOCK.findall(path.read_text(encoding="utf-8")), 1):
        namespace: dict[str, object] = {"__name__": f"docs_{path.stem}_{number}"}
        exec(compile(code, f"{path.name}[python block {number}]", "exec"), namespace)
        assert capsys.readouterr().out, f"{path.name} block {number} printed nothing"
