"""The apps keep the dependency direction of docs/architecture.md: a lower app never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2]
LEVEL = {
    "core": 0,
    "registry": 1,
    "identity": 2,
    "wallet": 3,
    "healthbook": 4,
    "ingestion": 5,
    "sharing": 5,
    "rollout": 6,
    "demo": 7,
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def _violations(app: str) -> list[str]:
    problems = []
    for path in sorted((SRC / app).rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for line, module in _imports(path):
            parts = module.split(".")
            if len(parts) < 2 or parts[0] != "soskdt" or parts[1] not in LEVEL or parts[1] == app:
                continue
            if LEVEL[parts[1]] >= LEVEL[app]:
                problems.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    return problems


@pytest.mark.parametrize("app", sorted(LEVEL))
def test_an_app_imports_only_apps_below_it(app):
    assert _violations(app) == []
