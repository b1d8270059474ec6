"""``src/`` imports only what ``pyproject.toml`` declares: a package that arrives only as a
dependency of a dependency can vanish with the next release of that dependency."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "ctxrouter"


def imported_top_levels(folder: Path) -> dict[str, str]:
    """Each top-level module imported under ``folder`` and one place that imports it."""
    found: dict[str, str] = {}
    base = ROOT if folder.is_relative_to(ROOT) else folder
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                found.setdefault(top, f"{path.relative_to(base)}:{node.lineno}")
    return found


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    names = {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0] for r in requirements}
    return {normalise(n) for n in names}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_src_imports_only_declared_packages() -> None:
    distributions = packages_distributions()
    declared = declared_distributions()
    undeclared = []
    for module, where in sorted(imported_top_levels(SRC).items()):
        if module == "ctxrouter" or module in sys.stdlib_module_names or module == "__future__":
            continue
        owners = {normalise(d) for d in distributions.get(module, [])}
        if not owners & declared:
            undeclared.append(f"{module} ({where}; from {', '.join(sorted(owners)) or '?'})")
    assert not undeclared, "imported but not declared in pyproject.toml: " + "; ".join(undeclared)


def test_the_check_sees_an_undeclared_import(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("import httpx2\nfrom yaml import safe_load\n")
    assert set(imported_top_levels(tmp_path)) == {"httpx2", "yaml"}
    assert "httpx2" not in declared_distributions()
