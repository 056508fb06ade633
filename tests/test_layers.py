"""The package reads top-down: each layer imports only the layers before it (docs/architecture.md).

Every import is checked, those inside functions too (the CLI and the library import lazily), by
reading the source with ``ast``: nothing is imported to run this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dsadvisor"
# The order a newcomer reads the package in; a module may import its own layer and those before it.
LAYERS = ("", "catalog", "physics", "engines", "serving", "advice", "launch", "api", "output", "cli")
# The version, the error types, the ranges of numbers a user may give, the frozen-record decorator and the
# identity-kept answers: every layer's vocabulary
BASE = {"dsadvisor", "dsadvisor.errors", "dsadvisor.limits", "dsadvisor.records", "dsadvisor.kept"}


def layer_of(module: str) -> int:
    parts = module.split(".")
    if module in BASE or module == "dsadvisor.__main__":
        return 0 if module != "dsadvisor.__main__" else len(LAYERS)
    return LAYERS.index(parts[1])


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imported(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, module) for every import of a dsadvisor module in ``source``, the text of ``module``."""
    package = module if is_package else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "dsadvisor"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "dsadvisor":
                continue
            # `from dsadvisor.catalog import schema` imports the module dsadvisor.catalog.schema
            found += [(node.lineno, f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target)
                      for a in node.names]
    return found


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(p) for p in FILES}


def test_every_module_belongs_to_a_layer():
    for m in MODULES:
        if m in BASE or m == "dsadvisor.__main__":
            continue
        assert m.split(".")[1] in LAYERS, f"{m} is in no layer: add its package to LAYERS and the docs"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    module = module_name(path)
    own = layer_of(module)
    against = [f"line {line}: {target}" for line, target in imported(path.read_text(), module, path.name == "__init__.py")
               if target in MODULES and layer_of(target) > own]
    assert not against, f"{module} (layer {LAYERS[own] or 'base'}) imports layers above it: {against}"


def test_the_check_sees_an_upward_import():
    """The checker itself: an import from a later layer is found, inside a function and relative too."""
    source = "def f():\n    from dsadvisor.advice.rules import Constraints\n    from ..launch import plan\n"
    targets = [t for _, t in imported(source, "dsadvisor.physics.memory")]
    assert targets == ["dsadvisor.advice.rules", "dsadvisor.launch.plan"]
    assert all(layer_of(t) > layer_of("dsadvisor.physics.memory") for t in targets)


MAX_FUNCTION_LINES = 60


def test_no_function_is_longer_than_a_screen():
    long = []
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
