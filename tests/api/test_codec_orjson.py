"""``loads_bounded`` parses with orjson first: for every text it accepts, the same value as the standard
parser (integers beyond 64 bits included, which orjson would turn into floats), and for every text it
refuses, the standard parser's answer (a BOM, a lone surrogate, NaN, 1e999, bad JSON, bad UTF-8)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkdash.contract import codec
from bulkdash.contract.codec import loads_bounded

TEXTS: list[bytes | str] = [
    b'{"a":1,"a":2}',
    b"123456789012345678901234567890",
    b'{"amount":18446744073709551616}',
    b'{"amount":-9223372036854775809}',
    b'{"amount":18446744073709551615}',
    b'{"id":"12345678901234567890"}',
    b"[1.0, -0, 1e308, 0.1e-400, 1E5, -1.5e-7]",
    b'"\\ud800"',
    '{"a":"\ud800"}',
    b'\xef\xbb\xbf{"a":1}',
    b' {"x": [true, false, null]} ',
    b'"\\u0000\\n"',
    b"1e999",
    b"[-1e999]",
    b"NaN",
    b"[Infinity]",
    b'"\xff"',
    b"",
    b"[1,2",
    b'{"a":1}x',
    '{"é": "ü"}',
]


def standard(raw: bytes | str) -> Any:
    text = raw if isinstance(raw, str) else raw.decode("utf-8-sig")
    return json.loads(text, parse_constant=codec._refuse_constant, parse_float=codec._finite_float)


def outcome(parse: Any, raw: bytes | str) -> tuple[str, Any]:
    try:
        value = parse(raw)
    except ValueError as exc:
        return type(exc).__name__, None
    return "ok", (value, type(value).__name__, json.dumps(value, sort_keys=True, default=str))


@pytest.mark.parametrize("raw", TEXTS, ids=lambda r: repr(r)[:30])
def test_the_fast_parser_gives_the_standard_answer(raw: bytes | str) -> None:
    assert outcome(loads_bounded, raw) == outcome(standard, raw)


def test_integers_beyond_64_bits_stay_integers() -> None:
    assert loads_bounded(b'{"a":[18446744073709551616,-9223372036854775809]}') == {
        "a": [18446744073709551616, -9223372036854775809]
    }


@given(st.binary(max_size=80) | st.from_regex(rb"[0-9a ]{0,60}", fullmatch=True))
def test_long_digit_runs_are_found_as_the_regex_finds_them(data: bytes) -> None:
    """The fast check that sends a text past orjson agrees with ``[0-9]{19}`` on every input."""
    assert codec.has_long_digit_run(data) == (re.search(rb"[0-9]{19}", data) is not None)


def test_a_run_of_exactly_nineteen_digits_is_long() -> None:
    assert codec.has_long_digit_run(b'{"x":1234567890123456789}')
    assert not codec.has_long_digit_run(b'{"x":123456789012345678}')
