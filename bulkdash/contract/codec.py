"""Compact JSON in and out, fast: the exact text Weavr's payload strings and webhook bodies use.

``compact_json`` equals ``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)`` (BEHAVIOR §3.2) but
runs on orjson, ~15× faster, because the simulator serialises several bodies per operation. Values orjson
refuses (integers beyond 64 bits inside an ignored property, say) fall back to the standard library.

``loads_bounded`` parses JSON that comes from outside (request bodies, webhooks received): it refuses nesting
deeper than ``MAX_JSON_DEPTH`` *before* parsing, and numbers JSON has no room for (``NaN``, ``Infinity``,
``1e999``). Every refusal is a ``ValueError``, as ``json.loads``'s own are.
"""

from __future__ import annotations

import json
import math
from array import array
from itertools import accumulate
from typing import Any

import orjson


def compact_json_bytes(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj)
    except TypeError:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compact_json(obj: Any) -> str:
    return compact_json_bytes(obj).decode("utf-8")


def loads(text: str | bytes) -> Any:
    """Parse JSON we wrote ourselves (stored payloads); client input goes through ``loads_bounded``."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


# --- JSON from outside ---------------------------------------------------------------------------------

#: The deepest nesting of arrays and objects accepted from outside. Weavr's deepest real body is a bulk
#: submission of outgoing wire transfers: array → item → requestBody → destinationBeneficiary →
#: bankAccountDetails, 5 levels, and fault plans are as shallow. 64 leaves ten times that margin while every
#: recursive consumer (json's C scanner, pydantic, our error-location walks, compact_json) stays far from
#: Python's recursion limit of 1,000, where a deeper body used to end in a RecursionError and a 500.
MAX_JSON_DEPTH = 64


class JsonTooDeep(ValueError):
    """The text nests arrays and objects deeper than allowed (found before parsing)."""


_OPENERS_CLOSERS_QUOTES = b'[]{}"'
_DROP_ALL_BUT_STRUCTURE = bytes(b for b in range(256) if b not in _OPENERS_CLOSERS_QUOTES)
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes
_SCAN_CHUNK = 1 << 16


def _structure_outside_strings(raw: bytes) -> bytes:
    r"""The brackets of ``raw`` that are not inside a JSON string, in order, at C speed (no per-byte loop).

    Escapes go first: inside a string every backslash escapes the next byte, so dropping each ``\\`` pair,
    then each ``\"``, leaves exactly the quotes that open or close strings. Keeping only brackets and
    quotes, ``""`` pairs (strings without brackets, nearly all of them) can go: removing two adjacent quotes
    never changes which side of a string any bracket is on. What quotes remain enclose brackets, and the
    even pieces between them are outside. Escapes or quotes outside strings make invalid JSON, which
    ``json.loads`` refuses anyway; here they can only skew the count, never raise. Exact for UTF-8, where
    these bytes never occur inside a multi-byte character.
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    reduced = raw.translate(None, _DROP_ALL_BUT_STRUCTURE).replace(b'""', b"")
    if b'"' in reduced:
        reduced = b"".join(reduced.split(b'"')[::2])
    return reduced


def nesting_exceeds(raw: bytes, max_depth: int) -> bool:
    """Whether arrays/objects in ``raw`` nest deeper than ``max_depth`` (``[]`` is depth 1)."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False  # too few openers to go that deep: most bodies stop here
    steps = array("b", _structure_outside_strings(raw).translate(_DEPTH_STEP))
    depth = 0
    # Chunks so a hostile body (32 MiB of "[") is refused after its first 64 KiB of brackets.
    for start in range(0, len(steps), _SCAN_CHUNK):
        chunk = steps[start : start + _SCAN_CHUNK]
        if depth + max(accumulate(chunk)) > max_depth:
            return True
        depth += sum(chunk)
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


#: 19 digits or more in a row: a number orjson might turn into a float (it keeps integers within 64 bits).
#: Found by mapping every digit to ``0`` and everything else to a space, then looking for nineteen ``0``s:
#: two C passes, ~0.5 µs for a webhook body where the regex ``[0-9]{19}`` took ~3.5 µs (it retries at every
#: digit; profiled with benchmarks/webhook_receiver.py, where it was most of the parse).
_DIGITS_AS_ZEROS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGITS = b"0" * 19


def has_long_digit_run(data: bytes) -> bool:
    """Whether ``data`` holds 19 or more ASCII digits in a row."""
    return len(data) >= 19 and _LONG_DIGITS in data.translate(_DIGITS_AS_ZEROS)


def loads_bounded(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for JSON from outside: :class:`JsonTooDeep` past ``max_depth`` levels of nesting
    (checked before parsing, so nothing recurses), ``ValueError`` for invalid JSON, for bytes that are not
    UTF-8 (RFC 8259 §8.1; a leading BOM is ignored), for ``NaN`` / ``Infinity`` and for floats beyond a
    double. Integers of any size parse: their range is the fields' business (a 400 that names the field).

    orjson parses first (several times faster; every webhook received and every request body comes here):
    it accepts exactly the texts the standard parser accepts below and gives the same values, except that
    it reads integers beyond 64 bits as floats, so a text with 19 digits in a row (rare: ids are shorter)
    skips it. Whatever orjson refuses (a BOM, a lone surrogate, ``NaN``, ``1e999``, bad JSON) goes to the
    standard parser, which accepts it or raises exactly as before."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if nesting_exceeds(data, max_depth):
        raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels")
    if not has_long_digit_run(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    text = raw if isinstance(raw, str) else raw.decode("utf-8-sig")
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
