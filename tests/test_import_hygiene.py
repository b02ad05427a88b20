"""Layers you can see: each layer imports only what is below it (checked in a fresh interpreter), no module
imports itself back through others, and SQL lives only in the stores."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Imported once the first screen is painted (when connecting, or when a key opens their screen).
STARTUP_LATER = (
    "bulkdash.session",
    "bulkdash.webhooks.receiver",
    "bulkdash.webhooks.store",
    "bulkdash.config",
    "bulkdash.ui.screens.connect",
    "bulkdash.ui.screens.webhooks",
    "uvicorn",
    "starlette",
    "aiosqlite",
    "sqlite3",
    "pydantic_settings",
)

# module to import → prefixes it must not pull in
RULES = {
    # httpx's command-line client (click, rich) is never imported with httpx (``bulkdash/__init__.py``).
    "bulkdash.api.client": ("textual", "simulator", "bulkdash.ui", "bulkdash.model", "rich", "click"),
    "bulkdash.contract.validation": ("textual", "simulator", "httpx"),
    "bulkdash.webhooks": ("textual", "simulator", "bulkdash.ui"),
    "bulkdash.session": ("textual", "simulator", "bulkdash.ui"),  # the simulator only when embedded
    "bulkdash.simctl": ("textual", "simulator", "bulkdash.ui", "bulkdash.model"),
    "bulkdash.model.training": ("textual", "simulator", "bulkdash.ui", "bulkdash.service", "httpx"),
    "bulkdash.contract.scenarios": ("textual", "simulator", "bulkdash.ui", "httpx"),
    # Start-up path: training is imported when first used, the simulator when the session embeds it. Issue 16:
    # the first screen is painted before the session (its receiver: uvicorn, starlette, SQLite), the config
    # file's reader (pydantic-settings) and the screens only a key opens (webhooks, connect) are imported —
    # and before the service itself, with its client (httpx), pydantic and the contract's models.
    "bulkdash.ui.app": (
        "pydantic",
        "pydantic_core",
        "httpx",
        "bulkdash.service.service",
        "bulkdash.api.client",
        "bulkdash.contract.models",
        "bulkdash.ui.screens.run",
        "bulkdash.ui.routing",
        "simulator",
        "bulkdash.simctl",
        "bulkdash.model.training",
        "bulkdash.contract.scenarios",
        "bulkdash.ui.screens.scenarios",
        "bulkdash.ui.screens.checklist",
        *STARTUP_LATER,
    ),
    # A fast --help; and the embedded simulator's process is spawned as soon as the command line is parsed,
    # before pydantic (the flags' checks, the config) is imported.
    "bulkdash.cli": ("textual", "textual_serve", "aiohttp", "simulator", "bulkdash.ui", "pydantic"),
    # The parent's side of the simulator's process: spawning imports nothing of the simulator.
    "bulkdash.sim_process": (
        "simulator",
        "textual",
        "pydantic",
        "httpx",
        "uvicorn",
        "bulkdash.serving",
        "bulkdash.ui",
        "bulkdash.session",
    ),
    # The dashboard's service works without Textual (plain tests drive it), and is on the start-up path.
    "bulkdash.service.service": (
        "textual",
        "simulator",
        "bulkdash.ui",
        "bulkdash.simctl",
        "bulkdash.model.training",
        "bulkdash.contract.scenarios",
    ),
    **{
        f"bulkdash.model.{name}": ("textual", "simulator", "bulkdash.ui", "bulkdash.service")
        for name in ("follow", "generate", "run", "timeline")  # training: above, with httpx too
    },
    # Scenario packs load when a trainer asks for one, not with every simulator.
    "simulator.server": (
        "textual",
        "bulkdash.ui",
        "bulkdash.model",
        "bulkdash.session",
        "rich",
        "simulator.scenarios",
    ),
    "simulator.engine.engine": ("textual", "starlette", "httpx", "bulkdash.ui"),
    "simulator.operations": ("textual", "aiosqlite", "starlette", "httpx"),
    # The contract is shared by both sides and depends on neither (nor on any I/O library).
    **{
        f"bulkdash.contract.{name}": (
            "textual",
            "simulator",
            "bulkdash.api",
            "bulkdash.ui",
            "bulkdash.model",
            "httpx",
        )
        for name in (
            "codec",
            "integers",
            "kinds",
            "models",
            "presenter",
            "requests",
            "scenarios",
            "signatures",
            "validation",
        )
    },
}


@pytest.mark.parametrize(("module", "forbidden"), sorted(RULES.items()))
def test_module_does_not_reach_across_layers(module: str, forbidden: tuple[str, ...]) -> None:
    code = (
        f"import sys, {module}\n"
        f"forbidden = {forbidden!r}\n"
        # A None entry marks a module absent (bulkdash/__init__.py: httpx's command-line client).
        "bad = sorted(m for m, mod in sys.modules.items() if mod is not None\n"
        "             and any(m == p or m.startswith(p + '.') for p in forbidden))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"


SQL = re.compile(r"\b(SELECT\s+\w|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b")
SQL_HOMES = {
    "simulator/store",
    "bulkdash/webhooks/store.py",
    "bulkdash/webhooks/schema.py",
    "bulkdash/classroom/store.py",
}


def test_sql_only_in_the_stores() -> None:
    offenders = []
    for path in [*ROOT.joinpath("simulator").rglob("*.py"), *ROOT.joinpath("bulkdash").rglob("*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        if any(rel.startswith(home) for home in SQL_HOMES):
            continue
        if SQL.search(path.read_text()):
            offenders.append(rel)
    assert offenders == []


def test_textual_only_under_ui() -> None:
    offenders = []
    for path in ROOT.joinpath("bulkdash").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("bulkdash/ui/"):
            continue
        # ``\b``: Textual itself; textual_serve (``bulkdash serve``) runs the dashboard in a subprocess.
        if re.search(r"^\s*(from|import) textual\b", path.read_text(), re.M):
            offenders.append(rel)
    assert offenders == []


# --- import cycles ---------------------------------------------------------------------------------------
PACKAGES = ("bulkdash", "simulator")
#: Cycles that exist and are someone else's to break: each names the import that would break it.
KNOWN_CYCLES = {
    # simulator/scenarios/__init__.py imports items lazily, and items imports the package's Scenario.
    frozenset({"simulator.scenarios", "simulator.scenarios.items"}),
    # bulkdash/connect.py imports the CLI (connector_from_profile) lazily, and the CLI imports the dashboard:
    # moving connector_from_profile below the UI (into bulkdash/connect.py) breaks it.
    frozenset(
        {"bulkdash.cli.dashboard", "bulkdash.connect", "bulkdash.ui.app", "bulkdash.ui.screens.connect"}
    ),
}


def _module_names() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in ROOT.joinpath(package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name | ast.Attribute) and (
        getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules ``module`` imports, at any depth of its code (a lazy import inside a function
    counts) but not under ``if TYPE_CHECKING:``. ``from package import name`` is ``package.name`` when that is
    a module, else ``package``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt) and _is_type_checking(child):
                for other in child.orelse:  # ``else:`` of ``if TYPE_CHECKING`` runs
                    visit_statement(other)
                continue
            visit_statement(child)

    def visit_statement(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
        else:
            visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in found if name in modules and name != module}


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.add(frozenset(component))
    return found


def test_the_cycle_check_sees_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == {frozenset({"a", "b", "c"})}


def test_no_import_cycles() -> None:
    modules = _module_names()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    new = cycles(graph) - KNOWN_CYCLES
    assert new == set(), f"import cycles: {[sorted(c) for c in new]}"


def test_type_checking_imports_and_lazy_imports_are_told_apart(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import hint\n"
        "def later():\n    from pkg import lazy\n"
    )
    modules = {"m": source, "pkg.hint": source, "pkg.lazy": source}
    assert imports_of("m", source, modules) == {"pkg.lazy"}
