"""``loads_bounded``: JSON from outside with its nesting bounded before parsing, and numbers JSON has no
room for refused (bulkdash/contract/codec.py)."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

from bulkdash.contract.codec import MAX_JSON_DEPTH, JsonTooDeep, loads_bounded, nesting_exceeds


def depth(value: Any) -> int:
    """The nesting of a parsed value, the reference the byte scan must agree with (``[]`` is 1)."""
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


def test_the_tester_body_is_refused_before_parsing() -> None:
    with pytest.raises(JsonTooDeep):
        loads_bounded(b"[" * 100_000)
    with pytest.raises(JsonTooDeep):
        loads_bounded(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)  # well-formed, and still too deep
    assert issubclass(JsonTooDeep, ValueError)  # callers that catch ValueError refuse it as malformed


def test_the_bound_is_inclusive() -> None:
    at_bound = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert depth(loads_bounded(at_bound)) == MAX_JSON_DEPTH
    with pytest.raises(JsonTooDeep):
        loads_bounded(b"[" + at_bound + b"]")


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"description": "[" * 1000}),  # brackets inside strings do not nest
        json.dumps({"p": "]" * 500 + "\\" * 3 + '"' + "{" * 500}),  # nor escaped quotes and backslashes
        json.dumps(["\\", "[[[[", "\\\\", '"[{']),
    ],
)
def test_brackets_inside_strings_do_not_count(text: str) -> None:
    assert loads_bounded(text.encode()) == json.loads(text)


def test_closers_inside_a_string_cannot_hide_real_depth() -> None:
    raw = b'{"p":"' + b"]" * 1000 + b'","q":' + b"[" * 100 + b"]" * 100 + b"}"
    with pytest.raises(JsonTooDeep):
        loads_bounded(raw)


def test_the_scan_agrees_with_the_parsed_depth_on_random_documents() -> None:
    rng = random.Random(7)
    alphabet = '[]{}"\\ab'

    def gen(level: int) -> Any:
        if level > 8 or rng.random() < 0.25:
            return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
        if rng.random() < 0.5:
            return [gen(level + 1) for _ in range(rng.randint(0, 3))]
        return {f"k{i}{rng.choice(alphabet)}": gen(level + 1) for i in range(rng.randint(0, 3))}

    for _ in range(500):
        doc = gen(0)
        raw = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()
        for limit in (0, 1, 3, 6):
            assert nesting_exceeds(raw, limit) == (depth(doc) > limit), raw


@pytest.mark.parametrize("raw", [b"NaN", b"[Infinity]", b'{"a": -Infinity}', b"1e999", b"[-1e400]"])
def test_numbers_json_has_no_room_for_are_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        loads_bounded(raw)


def test_big_integers_and_utf8_parse() -> None:
    assert loads_bounded(b"[99999999999999999999, 100.0]") == [99999999999999999999, 100.0]
    assert loads_bounded('{"n": "Zoë"}'.encode()) == {"n": "Zoë"}
    assert loads_bounded('\ufeff{"bom": true}'.encode()) == {"bom": True}
    assert loads_bounded('{"str": "input"}') == {"str": "input"}
    with pytest.raises(ValueError):
        loads_bounded('{"n": "Zoë"}'.encode("latin-1"))


def test_the_scan_costs_little_next_to_parsing_a_full_submission() -> None:
    item = {
        "pathParams": {},
        "requestBody": {
            "profileId": "3001",
            "source": {"type": "managed_accounts", "id": "4001"},
            "destination": {"type": "managed_cards", "id": "5002"},
            "destinationAmount": {"currency": "GBP", "amount": 100},
            "description": "January salary {ref} [7]",
        },
    }
    raw = json.dumps([item] * 10_000).encode()
    start = time.perf_counter()
    assert not nesting_exceeds(raw, MAX_JSON_DEPTH)
    scan = time.perf_counter() - start
    start = time.perf_counter()
    json.loads(raw)
    parse = time.perf_counter() - start
    # Measured ~8 ms against ~30 ms for the parse; the bound leaves room for a busy machine.
    assert scan < max(parse, 0.02) * 3, (scan, parse)
