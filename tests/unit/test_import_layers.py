"""The layering the README states holds: imports go downward only, and nothing imports itself back.

Read from the source with `ast`, every import counts, a lazy one inside a function too (that is how a cycle
hides); only imports under `if TYPE_CHECKING:` are left out, as they never run.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "tabular"

LAYERS = [
    {
        "tabular.vocabulary",
        "tabular.settings",
        "tabular.telemetry",
        "tabular.request_ids",
        "tabular.page_headers",
        "tabular.readiness",
    },
    {"tabular.db"},
    {"tabular.schemas"},
    {"tabular.errors"},
    {"tabular.auth"},
    {"tabular.ratelimit", "tabular.policies", "tabular.idempotency", "tabular.webhooks"},
    {"tabular.services"},
    {"tabular.routes"},
    {
        "tabular.access_log",
        "tabular.background",
        "tabular.security_headers",
        "tabular.typed_body",
        "tabular.tracing",
        "tabular.transaction",
    },
    {"tabular.plugin"},
    {"tabular.app", "tabular.demo"},
    {"tabular.cli"},
]
"""Bottom first, as in the README's map; a part may import its own layer's or lower layers' modules."""


def _modules() -> dict[str, Path]:
    modules = {}
    for path in (SOURCE / PACKAGE).rglob("*.py"):
        name = ".".join(path.relative_to(SOURCE).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    return modules


def _runtime_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of this package `name` imports when it runs: anywhere but under `if TYPE_CHECKING:`."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for statement in child.orelse:
                    visit(statement)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.add(child.module)
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {module for module in found if module in known and module != name}


def _part(module: str) -> str:
    """The package a module belongs to (`tabular.auth`), or the module itself at the top (`tabular.cli`)."""
    return ".".join(module.split(".")[:2])


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _runtime_imports(name, path, set(modules)) for name, path in modules.items()}


def test_no_module_imports_one_that_imports_it_back() -> None:
    try:
        tuple(TopologicalSorter(_graph()).static_order())
    except CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")


def test_no_package_imports_one_that_imports_it_back() -> None:
    parts: dict[str, set[str]] = {}
    for module, imports in _graph().items():
        parts.setdefault(_part(module), set()).update(_part(i) for i in imports if _part(i) != _part(module))
    try:
        tuple(TopologicalSorter(parts).static_order())
    except CycleError as cycle:
        pytest.fail(f"package cycle: {' -> '.join(cycle.args[1])}")


def test_every_import_goes_down_the_layers() -> None:
    level = {part: index for index, layer in enumerate(LAYERS) for part in layer}
    upward = [
        f"{module} imports {imported}"
        for module, imports in _graph().items()
        if _part(module) != PACKAGE
        for imported in imports
        if _part(imported) != PACKAGE and level[_part(imported)] > level[_part(module)]
    ]
    assert upward == []
    assert {_part(module) for module in _modules()} - {PACKAGE} == set(level), "every part has a layer"
