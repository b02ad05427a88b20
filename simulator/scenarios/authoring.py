"""Writing packs: what ``bulkdash-sim scenario validate | new | schema`` do for a trainer.

* :func:`validate_file` — every problem of one pack file, each naming its **line** and field
  (``payroll.toml:14: bulk.size: Input should be less than or equal to 10000``), then the linter's findings
  (:mod:`.lint`), so a trainer fixes a pack in one pass;
* :func:`template` — a commented pack that validates and lints clean, to copy from (``scenario new NAME``);
* :func:`schema` — the JSON Schema of the pack format, for editors that complete and check TOML against one
  (Even Better TOML / taplo read a ``#:schema`` comment or a settings entry).

TOML parsers do not report where a key was written, so :func:`key_lines` maps field paths to lines by reading
the file's table headers and keys itself; a path it cannot place falls back to its nearest placed parent.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.faults.plan import PlanError

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_TOML_LINE = re.compile(r"at line (\d+)")


def _dotted(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.split(r"\.(?=(?:[^\"']|\"[^\"]*\"|'[^']*')*$)", text)]


def key_lines(text: str) -> dict[str, int]:
    """Field path (``bulk.size``, ``questions[2].correct``) → the 1-based line that sets it."""
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    prefix = ""
    open_quote: str | None = None  # inside a multi-line string
    for number, line in enumerate(text.splitlines(), 1):
        if open_quote is not None:
            if line.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        header = _HEADER.match(line)
        if header is not None:
            path = ".".join(_dotted(header[2]))
            if header[1] == "[[":
                index = counts.get(path, 0)
                counts[path] = index + 1
                path = f"{path}[{index}]"
            prefix = path
            lines.setdefault(prefix, number)
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        path = ".".join(_dotted(key[1]))
        full = f"{prefix}.{path}" if prefix else path
        lines.setdefault(full, number)
        for quote in ('"""', "'''"):
            if line.count(quote) % 2 == 1:
                open_quote = quote
    return lines


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path``, or of its nearest parent that has one (``a.b[1].c`` → ``a.b[1]`` → ``a.b``)."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a pack file, where it is."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def validate_file(path: Path) -> list[Problem]:
    """Every problem of the pack at ``path`` (empty: it loads and lints clean)."""
    from simulator.scenarios import parse_scenario
    from simulator.scenarios.lint import lint_scenario

    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(shown, None, "", f"cannot read it: {exc}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        return [Problem(shown, int(found[1]) if found else None, "", f"not valid TOML: {exc}")]
    lines = key_lines(text)
    try:
        scenario = parse_scenario(data, path.stem, shown)
    except PlanError as exc:
        return [Problem(shown, line_of(lines, field), field, message) for field, message in exc.problems]
    out = []
    for error in lint_scenario(scenario):
        field = f"questions[{error.question - 1}]" if error.question is not None else ""
        line = line_of(lines, field) if field else None
        out.append(Problem(shown, line, field, f"[{error.rule}] {error.message}"))
    return out


_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def check_name(name: str) -> str | None:
    """Why ``name`` cannot name a pack (it becomes the file name and the URL segment), or None."""
    if _NAME.match(name):
        return None
    return "use lower-case letters, digits and dashes (e.g. payroll-twice), at most 63 characters"


def template(name: str) -> str:
    """A pack to start from: every section explained, valid and lint-clean as written."""
    return _TEMPLATE.replace("{name}", name)


def schema() -> dict[str, Any]:
    """The JSON Schema of a pack file (the ``Scenario`` model without its ``name``, which is the file's)."""
    from simulator.scenarios import Scenario

    out = Scenario.model_json_schema()
    out["properties"].pop("name", None)
    if "name" in out.get("required", []):
        out["required"].remove("name")
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = "bulkdash scenario pack"
    out["description"] = "A training scenario for bulkdash: see docs/packs.md."
    return out


_TEMPLATE = '''\
# A bulkdash training scenario: {name}.toml
# Check it with `bulkdash-sim scenario validate {name}.toml`, play it headless with
# `bulkdash-sim scenario run {name} --packs DIR`, and train on it with `bulkdash train --packs DIR`.
# The format is described in docs/packs.md; `bulkdash-sim scenario schema` prints its JSON Schema.

title = "Some transfers fail"
difficulty = "beginner"  # beginner | intermediate | advanced
# What the customer reports, in their words. Do not put the answer here.
narrative = """
Acme submitted eight transfers as one bulk. Their finance team says some payments "did not go out"
and asks which ones, and why.
"""
seed = 7  # the same seed gives the same items and the same faults on every run

[bulk]
kind = "transfers"  # transfers | sends | outgoing_wire_transfers | users | …  (see docs/packs.md)
size = 8
params = { amount = 150, destinations = ["5002"] }

[execute]
mode = "ON_FAILURE_CONTINUE"  # or ON_FAILURE_STOP
webhook_interval = 4
by_client = false  # true: the trainee executes the bulk from the dashboard

# Faults: which operations fail, and how (see docs/packs.md for every outcome).
[faults.speed]
op_delay_ms = 40

[[faults.operations]]
sequence = 3
outcome = "conflict"  # conflict (a 409 errorCode) | bad_request | internal_error | unavailable | slow
error_code = "DESTINATION_INSTRUMENT_BLOCKED"

# What the run must come to; `scenario run` prints MATCH when it does.
[expect]
status = "PARTIALLY_COMPLETED"
counts = { COMPLETED = 7, FAILED = 1, CANCELLED = 0 }

# The checklist: at least three choices, the correct one at varying positions, evidence the dashboard shows.
[[questions]]
question = "Which operation did not go through?"
choices = ["Operation 1", "Operation 3", "None: they all failed"]
correct = 2
hint = "Filter the operations table to FAILED (f)."
answer = "Operation 3 failed; the others completed."
evidence = ["op.3.status = FAILED"]

[[questions]]
question = "Why did it fail?"
choices = [
  "The destination instrument is blocked",
  "The source account had too little money",
  "Weavr was down for a moment",
]
correct = 1
hint = "Read the Response column of the failed row."
answer = """DESTINATION_INSTRUMENT_BLOCKED: the payee's instrument is blocked; the customer must unblock it
or pay elsewhere."""
evidence = ["failed.response = DESTINATION_INSTRUMENT_BLOCKED"]

[[questions]]
question = "What is the bulk's final status?"
choices = ["COMPLETED", "FAILED", "PARTIALLY_COMPLETED"]
correct = 3
hint = "Look at the run screen's header once the run ends."
answer = "PARTIALLY_COMPLETED: some operations completed and some failed."
evidence = ["run.status = PARTIALLY_COMPLETED"]

# The customer's question, answered by the trainee in their own words; the model answer is shown after.
[reply]
prompt = "Which payments did not go out, and what should we do?"
model = """Payment 3 failed because the payee's instrument is blocked; the other seven were paid.
Unblock the instrument (or use another one) and submit that one payment again, as a new bulk with a new
idempotency-ref."""
'''


__all__ = ["Problem", "check_name", "key_lines", "line_of", "schema", "template", "validate_file"]
