"""Layers you can see: each layer imports only what is below it (checked in a fresh interpreter), and SQL
lives only in the stores."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# module to import → prefixes it must not pull in
RULES = {
    "bulkdash.api.client": ("textual", "simulator", "bulkdash.ui", "bulkdash.model"),
    "bulkdash.contract.validation": ("textual", "simulator", "httpx"),
    "bulkdash.webhooks": ("textual", "simulator", "bulkdash.ui"),
    "bulkdash.model.follow": ("textual", "simulator", "bulkdash.ui"),
    "bulkdash.session": ("textual", "simulator", "bulkdash.ui"),  # the simulator only when embedded
    "bulkdash.simctl": ("textual", "simulator", "bulkdash.ui", "bulkdash.model"),
    "bulkdash.model.training": ("textual", "simulator", "bulkdash.ui", "httpx"),
    "bulkdash.contract.scenarios": ("textual", "simulator", "bulkdash.ui", "httpx"),
    # Start-up path: training is imported when first used, the simulator when the session embeds it.
    "bulkdash.ui.app": (
        "simulator",
        "bulkdash.simctl",
        "bulkdash.model.training",
        "bulkdash.contract.scenarios",
        "bulkdash.ui.screens.scenarios",
        "bulkdash.ui.screens.checklist",
    ),
    "bulkdash.cli": ("textual", "textual_serve", "aiohttp", "simulator", "bulkdash.ui"),  # a fast --help
    "simulator.server": ("textual", "bulkdash.ui", "bulkdash.model", "bulkdash.session"),
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
        "bad = sorted(m for m in sys.modules if any(m == p or m.startswith(p + '.') for p in forbidden))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()}"


SQL = re.compile(r"\b(SELECT\s+\w|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b")
SQL_HOMES = {"simulator/store", "bulkdash/webhooks/store.py", "bulkdash/webhooks/schema.py"}


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
