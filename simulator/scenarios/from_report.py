"""Yesterday's incident as today's exercise: ``bulkdash-sim scenario from-report REPORT_DIR``.

Reads a run report (the folder ``bulkdash report`` or the dashboard's ``e`` writes: ``report.md`` with the
bulk's summary and counts, ``operations.jsonl``, ``webhooks.jsonl``), from the simulator or from a real Weavr
endpoint, and writes a pack that replays the run on the simulator: the same kind and size, the same mode and
webhookInterval, the same operations failing with the same error codes in the same order, the webhook trouble
it had (duplicates, rejected signatures, bulk events out of order), the same final state and counts.

**Anonymised by rule.** The replay's items are made by the simulator's own generators for the kind, so no id,
name, email, IBAN or description of the original reaches the pack; amounts are replaced by the generator's
default. ``--keep amount`` keeps the original amounts' range, ``--keep description`` / ``--keep tag`` the
first item's value. Error codes, sequences, counts and statuses are kept: they are the incident.

The checklist starts with generated questions (the final state, the first failure and its cause, the webhooks
that arrived), each lint-clean, for the trainer to edit; the narrative is a placeholder to rewrite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkdash.contract.kinds import KINDS, OperationKind

KEEPABLE = ("amount", "description", "tag")
_ROW = re.compile(r"^\|\s*(?P<key>[^|]+?)\s*\|\s*(?P<value>[^|]*?)\s*\|")
_FINAL = ("COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED")


class ReportError(ValueError):
    """The folder is not a run report this can read; the message says what is missing."""


@dataclass
class Incident:
    """What the report says happened, reduced to what a replay needs."""

    kind: OperationKind
    size: int
    mode: str
    status: str
    counts: dict[str, int]
    failures: list[tuple[int, str, int | None]]  # (sequence, errorCode, HTTP status when known) in order
    webhook_interval: int | None = None
    duplicates: list[int] = field(default_factory=list)  # event numbers delivered twice
    rejected: list[int] = field(default_factory=list)  # event numbers refused (bad signature)
    end_events: int = 0
    progress_events: int = 0
    out_of_order: bool = False
    cancelled_at: int | None = None  # the run was cancelled by someone while this operation ran
    amounts: list[int] = field(default_factory=list)
    first_values: dict[str, str] = field(default_factory=dict)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReportError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise ReportError(f"{path}:{number}: expected an object per line")
        rows.append(row)
    return rows


def _summary(markdown: str) -> dict[str, str]:
    """The report's Summary and Counts tables as ``{field: value}`` (counts keyed by status)."""
    out: dict[str, str] = {}
    for line in markdown.splitlines():
        row = _ROW.match(line)
        if row is not None and not row["key"].startswith("-"):
            out.setdefault(row["key"], row["value"])
    return out


def _kind_of(operation: str) -> OperationKind:
    """``POST /managed_cards/5001/block`` or ``POST /managed_cards/{id}/block`` → the operation kind."""
    method, _, path = operation.strip().partition(" ")
    for spec in KINDS.values():
        pattern = re.escape(spec.single_template).replace(r"\{id\}", "[^/]+").replace(r"\{user_id\}", "[^/]+")
        if spec.method == method.upper() and re.fullmatch(pattern, path.strip()):
            return spec.kind
    raise ReportError(f"the report's operation {operation!r} is not a bulk operation kind this knows")


def _int(value: str | None, what: str) -> int:
    try:
        return int(str(value).replace(",", ""))
    except ValueError:
        raise ReportError(f"report.md: {what} is {value!r}, not a number") from None


def read_incident(folder: Path) -> Incident:
    """The incident a report folder records; :class:`ReportError` when it is not a readable report."""
    markdown_path = folder / "report.md"
    try:
        markdown = markdown_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{folder} holds no report.md: give the folder a report was written to") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"cannot read {markdown_path}: {exc}") from None
    summary = _summary(markdown)
    ops = sorted(
        (op for op in _jsonl(folder / "operations.jsonl") if isinstance(op.get("sequence"), int)),
        key=lambda op: op["sequence"],
    )
    operation = summary.get("Operation", "")
    if operation in ("", "—") and ops:
        operation = f"{ops[0].get('method', '')} {ops[0].get('path', '')}"
    kind = _kind_of(operation)
    size = _int(summary.get("Submitted items"), "Submitted items")
    if not 1 <= size <= 10_000:
        raise ReportError(f"report.md: {size} submitted items; a bulk holds 1 to 10,000")
    status = summary.get("Status", "")
    if status not in _FINAL:
        raise ReportError(f"report.md: the bulk's status is {status or 'missing'}; replay a finished run")
    mode = summary.get("Mode", "ON_FAILURE_CONTINUE")
    if mode not in ("ON_FAILURE_STOP", "ON_FAILURE_CONTINUE"):
        mode = "ON_FAILURE_CONTINUE"
    counts = {s: _int(summary.get(s, "0"), f"the {s} count") for s in ("COMPLETED", "FAILED", "CANCELLED")}
    failures = [
        (op["sequence"], str(op.get("errorCode") or "INTERNAL_ERROR"), _http_status(op.get("response")))
        for op in ops
        if op.get("status") == "FAILED"
    ]
    if len(failures) != counts["FAILED"]:
        raise ReportError(
            f"operations.jsonl lists {len(failures)} failed operations, the counts {counts['FAILED']}: "
            "write the report with every operation (no status filter)"
        )
    incident = Incident(kind, size, mode, status, counts, failures)
    _read_webhooks(incident, _jsonl(folder / "webhooks.jsonl"))
    if status == "CANCELLED" and counts["CANCELLED"]:
        incident.cancelled_at = counts["COMPLETED"] + counts["FAILED"]
    for op in ops:
        request = op.get("request") if isinstance(op.get("request"), dict) else {}
        money = request.get("destinationAmount") or request.get("transferAmount") or {}
        if isinstance(money, dict) and isinstance(money.get("amount"), int):
            incident.amounts.append(money["amount"])
        for key in ("description", "tag"):
            if isinstance(request.get(key), str) and key not in incident.first_values:
                incident.first_values[key] = request[key]
    return incident


def _http_status(response: Any) -> int | None:
    if isinstance(response, dict) and isinstance(response.get("httpStatus"), int):
        return response["httpStatus"]
    return None


def _read_webhooks(incident: Incident, rows: Sequence[dict[str, Any]]) -> None:
    """Count what arrived, and number the events the way a fault plan does (1, 2, … as published)."""
    events: dict[str, int] = {}  # first request's id → event number
    last_done = -1
    done_seen: list[int] = []
    for row in rows:
        path = str(row.get("path") or "")
        if not path.endswith(("/bulk_process_end/watch", "/bulk_process_progress/watch")):
            continue
        original = row.get("duplicateOf")
        if original is not None and str(original) in events:
            incident.duplicates.append(events[str(original)])
            continue
        number = len(events) + 1
        events[str(row.get("id"))] = number
        if row.get("accepted") is False:
            incident.rejected.append(number)
            continue
        counts = row.get("counts") if isinstance(row.get("counts"), dict) else {}
        done = sum(v for k, v in counts.items() if k in ("COMPLETED", "FAILED") and isinstance(v, int))
        # Progress events travel on the end path too (docs/behaviour.md A14): the status tells them apart.
        if row.get("bulkStatus") in _FINAL:
            incident.end_events += 1
        else:
            incident.progress_events += 1
            done_seen.append(done)
        if done < last_done:
            incident.out_of_order = True
        last_done = max(last_done, done)
    if done_seen:
        incident.webhook_interval = min(done_seen) or None


def _toml(value: Any) -> str:
    """A TOML value: JSON's strings, numbers, booleans and arrays are TOML too."""
    return json.dumps(value, ensure_ascii=False)


def _params(incident: Incident, keep: Sequence[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "amount" in keep and incident.amounts:
        low, high = min(incident.amounts), max(incident.amounts)
        params["amount"] = low
        if high > low:
            params["amount_max"] = high
    for key in ("description", "tag"):
        if key in keep and key in incident.first_values:
            params[key] = incident.first_values[key]
    return params


def _fault_lines(incident: Incident) -> list[str]:
    from simulator.faults.plan import ERROR_CODES

    allowed = ERROR_CODES.get(incident.kind, frozenset())
    lines = ["[faults.speed]", "op_delay_ms = 40", "webhook_retry_scale = 0.002", ""]
    for sequence, code, http in incident.failures:
        lines.append("[[faults.operations]]")
        lines.append(f"sequence = {sequence}")
        if code in allowed:
            lines += ['outcome = "conflict"', f"error_code = {_toml(code)}"]
        elif http == 400 or code in ("INVALID_REQUEST", "BAD_REQUEST"):
            lines.append('outcome = "bad_request"')
        else:
            # A code the simulator cannot produce for this kind: the replay fails it as Weavr's 500 does.
            lines.append(f'outcome = "internal_error"  # the report said {code}')
        lines.append("")
    hooks = []
    if incident.duplicates:
        hooks.append(f"duplicates = {{ events = {_toml(sorted(set(incident.duplicates)))} }}")
    if incident.rejected:
        hooks.append(f"bad_signature = {{ events = {_toml(incident.rejected)} }}")
    if incident.out_of_order:
        hooks.append("out_of_order = { every = 2 }")
    if hooks:
        lines += ["[faults.webhooks]", *hooks, ""]
    return lines


@dataclass(frozen=True, slots=True)
class _Question:
    question: str
    right: str
    wrong: tuple[str, ...]  # three distractors, at least one longer than ``right`` where one can be
    hint: str
    answer: str
    evidence: str


_COUNTS_HINT = "Read the counts in the run screen's header."
_HOOKS_HINT = "Count them on the webhooks screen (w)."


def _count_question(what: str, count: int, fact: str, where: str) -> _Question:
    wrong = [str(count + 1), str(count + 2) if count == 0 else str(count - 1), f"None: no {what} at all"]
    if count == 0:
        wrong[2] = f"More than {count + 10}"
    answer = f"{count} {what} in this run."
    return _Question(f"How many {what}?", str(count), tuple(wrong), where, answer, f"{fact} = {count}")


def _questions(incident: Incident) -> list[_Question]:
    """Three or four questions whose answers the replay's run shows."""
    from simulator.faults.plan import ERROR_CODES

    status = incident.status
    counts = incident.counts
    out = [
        _Question(
            "What is the bulk's final state?",
            status,
            tuple(s for s in _FINAL if s != status),
            "Read the run screen's header once the run has ended.",
            f"The bulk ended {status}: {counts['COMPLETED']} completed, {counts['FAILED']} failed, "
            f"{counts['CANCELLED']} cancelled.",
            f"run.status = {status}",
        )
    ]
    if incident.failures:
        first, code, _ = incident.failures[0]
        near = [s for s in (first + 1, first - 1, first + 2, incident.size) if 1 <= s <= incident.size]
        near = [s for s in dict.fromkeys(near) if s != first][:2]
        out.append(
            _Question(
                "Which operation failed first?",
                f"Operation {first}",
                (*(f"Operation {s}" for s in near), "None: every operation completed")[-3:],
                "Filter the operations table to FAILED (f) and look at the lowest sequence.",
                f"Operation {first} was the first to fail.",
                f"op.{first}.status = FAILED",
            )
        )
        pool = sorted(ERROR_CODES.get(incident.kind, frozenset()) | {"INTERNAL_ERROR"}, key=len, reverse=True)
        out.append(
            _Question(
                f"Why did operation {first} fail?",
                code,
                tuple(c for c in pool if c != code)[:3],
                f"Open operation {first} (enter on its row) and read its response.",
                f"Its response carried {code}; docs/behaviour.md says what it means and what to do.",
                f"op.{first}.response = {code}",
            )
        )
    else:
        out.append(
            _count_question("operations completed", counts["COMPLETED"], "run.COMPLETED", _COUNTS_HINT)
        )
    if incident.end_events:
        out.append(
            _count_question("bulk end webhooks arrived", incident.end_events, "webhooks.end", _HOOKS_HINT)
        )
    else:
        out.append(
            _count_question("operations were cancelled", counts["CANCELLED"], "run.CANCELLED", _COUNTS_HINT)
        )
    return out


def _arranged(questions: list[_Question]) -> list[tuple[_Question, list[str], int]]:
    """Each question's choices with the correct one at the next position in turn (1, 2, 3, 4, 1, …), so no
    position is correct in more than 40 % of them, the longest distractor first so the correct choice is
    rarely the longest (the linter's rules, :mod:`.lint`)."""
    out = []
    for n, q in enumerate(questions):
        choices = sorted(q.wrong, key=len, reverse=True)
        position = n % (len(choices) + 1)
        choices.insert(position, q.right)
        out.append((q, choices, position + 1))
    return out


def pack_text(incident: Incident, name: str, source: str, keep: Sequence[str] = ()) -> str:
    """The pack's TOML."""
    lines = [
        f"# Made by `bulkdash-sim scenario from-report {source}`: edit the narrative and the questions,",
        "# then check it with `bulkdash-sim scenario validate` and play it with `scenario run`.",
        f"# Anonymised: items are generated; kept from the report: {', '.join(keep) or 'nothing but codes'}.",
        "",
        f"title = {_toml(f'Replay: {incident.size} {incident.kind.value} ending {incident.status}')}",
        'difficulty = "intermediate"',
        'narrative = """',
        f"A customer's bulk of {incident.size} {KINDS[incident.kind].title.lower()} ended {incident.status}.",
        "(Rewrite this in the customer's words: what they saw, what they ask.)",
        '"""',
        "seed = 1",
        "",
        "[bulk]",
        f"kind = {_toml(incident.kind.value)}",
        f"size = {incident.size}",
    ]
    params = _params(incident, keep)
    if params:
        lines.append("params = { " + ", ".join(f"{k} = {_toml(v)}" for k, v in params.items()) + " }")
    lines += ["", "[execute]", f"mode = {_toml(incident.mode)}"]
    if incident.webhook_interval:
        lines.append(f"webhook_interval = {incident.webhook_interval}")
    if incident.cancelled_at:
        lines += ["", "[run]", f"cancel_at = {incident.cancelled_at}"]
    lines += ["", *_fault_lines(incident)]
    lines += ["[expect]", f"status = {_toml(incident.status)}"]
    lines.append("counts = { " + ", ".join(f"{k} = {v}" for k, v in incident.counts.items()) + " }")
    expect_hooks = []
    if incident.duplicates:
        expect_hooks.append(f"duplicates = {len(incident.duplicates)}")
    if incident.rejected:
        expect_hooks.append(f"rejected = {len(incident.rejected)}")
    if expect_hooks:
        lines += ["", "[expect.webhooks]", *expect_hooks]
    for q, choices, correct in _arranged(_questions(incident)):
        lines += [
            "",
            "[[questions]]",
            f"question = {_toml(q.question)}",
            f"choices = {_toml(choices)}",
            f"correct = {correct}",
            f"hint = {_toml(q.hint)}",
            f"answer = {_toml(q.answer)}",
            f"evidence = [{_toml(q.evidence)}]",
        ]
    return "\n".join(lines) + "\n"


__all__ = ["KEEPABLE", "Incident", "ReportError", "pack_text", "read_incident"]
