"""The layout shows the architecture: the application never imports the local stack's supervisor."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPLICATION = ("include", "dags", "spark_jobs", "dashboard")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", APPLICATION)
def test_the_application_never_imports_the_local_stack(folder: str) -> None:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"{folder}/ holds Python files"
    importing = [
        str(path.relative_to(ROOT))
        for path in files
        if any(name == "localstack" or name.startswith("localstack.") for name in _imports(path))
    ]
    assert importing == []


def test_the_local_stack_lives_apart_from_the_application_package() -> None:
    assert (ROOT / "localstack" / "__main__.py").exists()
    assert not (ROOT / "include" / "election" / "stack").exists()
