"""Realistic bulk items for each operation kind against the simulator's demo world (docs/behaviour.md
Appendix A).

Plain Python (no I/O, no Textual): the dashboard's "new bulk" dialog, tests and benchmarks use it. The items
are shaped for identity 1001 (Acme) logged in as alice: accounts 4001 GBP / 4002 EUR / 4004 SEK, cards
5001-5007, transfer profile 3001, send profile 3101 (to 5101 / 4101 of identity 1002), wire-transfer
profile 3201 with beneficiaries 7001 (SEPA, from 4002 EUR) and 7002 (Faster Payments, from 4001 GBP).

``fail_share`` (0..1) makes that share of the items fail *deterministically* and evenly spread: each failing
item breaks a business rule the simulator checks at run time (a blocked card, a destroyed card, an email on
``blocked.example``...), so the bulk is accepted and the failures show up per operation.

Card and invite kinds reject the same target twice in one bulk (docs/behaviour.md A8), so how many of
their items can *succeed* is bounded by the distinct targets of the demo world. Failing items first use the
demo world's targets the operation fails on; once those run out, they name cards or users that do not exist
(404). ``size_limit`` tells the dialog the bound.
"""

from __future__ import annotations

import math
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkdash.contract.codec import MAX_JSON_DEPTH, JsonTooDeep, loads_bounded
from bulkdash.contract.kinds import KINDS, UNIQUE_TARGET_KINDS, OperationKind

Item = dict[str, Any]

FIRST_NAMES = ("Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hugo", "Iris", "Jonas", "Kemi", "Luca")
SURNAMES = ("Okafor", "Novak", "Silva", "Lindqvist", "Moreau", "Rossi", "Haddad", "Kowalski", "Tanaka")
#: First id of the made-up targets that do not exist (failing items past the meaningful ones).
MISSING_TARGET_BASE = 99_000_001


class GenerateError(ValueError):
    """The request cannot be met (e.g. more succeeding items than distinct targets); the text says why."""


@dataclass(frozen=True, slots=True)
class _Target:
    """One distinct path target of a unique-target kind: whether it can succeed and fail, and the bodies."""

    id: str
    ok: Item | None  # the requestBody that succeeds ({} for kinds without a body); None: cannot succeed
    bad: Item | None  # the requestBody that fails; None: cannot fail (beyond being made up)


def fail_share_from_percent(text: str) -> float:
    """The share (0..1) of failing items from what the user typed as a percentage; ``GenerateError`` when it
    is not a number from 0 to 100 (blank is 0)."""
    raw = text.strip()
    try:
        percent = float(raw) if raw else 0.0
    except ValueError:
        raise GenerateError(f"failing items must be a percentage from 0 to 100, not “{raw[:20]}”") from None
    if not (math.isfinite(percent) and 0 <= percent <= 100):
        raise GenerateError(f"failing items must be a percentage from 0 to 100, not {raw[:20]}")
    return percent / 100


def failing_indices(size: int, fail_share: float) -> set[int]:
    """Which of ``size`` items fail: ``round(size * share)`` of them, spread evenly, the same every time."""
    share = min(1.0, max(0.0, fail_share))
    count = round(size * share)
    if count <= 0:
        return set()
    # Bresenham-style spreading: item i fails when the running share crosses an integer.
    return {i for i in range(size) if math.floor((i + 1) * count / size) > math.floor(i * count / size)}


# --- unique-target kinds ------------------------------------------------------------------------------

_EUR_LIMIT = {"spendLimit": [{"value": {"currency": "EUR", "amount": 50_000}, "interval": "MONTHLY"}]}
_GBP_LIMIT = {"spendLimit": [{"value": {"currency": "GBP", "amount": 25_000}, "interval": "DAILY"}]}
_NO_ATM = {"allowAtm": False, "allowContactless": True, "blockedMerchantCountries": ["RU", "KP"]}


def _targets(kind: OperationKind) -> list[_Target]:
    """The meaningful targets of the demo world, those that can succeed first."""
    empty: Item = {}
    if kind is OperationKind.USER_INVITE:
        # Only gina (2005) has no password yet; the others already accepted their invite.
        return [_Target("2005", empty, None)] + [
            _Target(u, None, empty) for u in ("2001", "2002", "2003", "2004")
        ]
    if kind is OperationKind.CARD_BLOCK:
        ok = [_Target(c, empty, None) for c in ("5001", "5002", "5007")]
        # 5003 already blocked, 5005 destroyed, 5004 system-blocked, 5006 lost.
        return ok + [_Target(c, None, empty) for c in ("5003", "5005", "5004", "5006")]
    if kind is OperationKind.CARD_UNBLOCK:
        # 5003 is blocked by the user; 5004 by the system (403), 5006 lost, 5005 destroyed, 5001 not blocked.
        return [_Target("5003", empty, None)] + [
            _Target(c, None, empty) for c in ("5004", "5006", "5005", "5001")
        ]
    if kind is OperationKind.CARD_REMOVE:
        # Prepaid cards with a zero balance and the debit card can go; 5001 holds money, 5005 is gone.
        ok = [_Target(c, empty, None) for c in ("5002", "5007", "5003", "5004", "5006")]
        return ok + [_Target(c, None, empty) for c in ("5001", "5005")]
    if kind is OperationKind.SPEND_RULES:
        # Every card takes plain rules; a spend limit fails on a prepaid card or in the wrong currency.
        out = [_Target("5007", _EUR_LIMIT, _GBP_LIMIT)]
        out += [_Target(c, _NO_ATM, _GBP_LIMIT) for c in ("5001", "5002", "5003", "5004", "5006", "5005")]
        return out
    raise AssertionError(f"{kind} has no unique targets")


def size_limit(kind: OperationKind, fail_share: float = 0.0) -> int | None:
    """The largest bulk of ``kind`` whose non-failing items can all succeed, or None when unbounded."""
    if kind not in UNIQUE_TARGET_KINDS:
        return None
    succeeding = sum(1 for t in _targets(kind) if t.ok is not None)
    share = min(1.0, max(0.0, fail_share))
    if share >= 1.0:
        return 10_000
    # The largest n with n - round(n * share) <= succeeding.
    n = succeeding
    while n < 10_000 and (n + 1) - len(failing_indices(n + 1, share)) <= succeeding:
        n += 1
    return n


def _unique_items(kind: OperationKind, size: int, fail_share: float) -> list[Item]:
    spec = KINDS[kind]
    assert spec.path_param is not None
    failing = failing_indices(size, fail_share)
    targets = _targets(kind)
    can_ok = [t for t in targets if t.ok is not None]
    needed_ok = size - len(failing)
    if needed_ok > len(can_ok):
        raise GenerateError(
            f"{spec.title}: at most {len(can_ok)} items can succeed (a bulk may name each target once); "
            f"asked for {needed_ok}"
        )
    ok_iter = iter(can_ok[:needed_ok])
    used = {t.id for t in can_ok[:needed_ok]}
    bad_iter = iter([t for t in targets if t.bad is not None and t.id not in used])
    missing = MISSING_TARGET_BASE
    items: list[Item] = []
    for i in range(size):
        if i in failing:
            target = next(bad_iter, None)
            if target is None:
                body, target_id = ({} if spec.body_required else None), str(missing)
                if spec.body_required:
                    body = dict(_NO_ATM)
                missing += 1
            else:
                body, target_id = target.bad, target.id
        else:
            target = next(ok_iter)
            body, target_id = target.ok, target.id
        item: Item = {"pathParams": {spec.path_param: target_id}}
        if spec.body_required:
            item["requestBody"] = dict(body or {})
        items.append(item)
    return items


# --- unbounded kinds ----------------------------------------------------------------------------------


def _transfer(i: int, fail: bool) -> Item:
    # Small amounts (£0.01-£0.50) so 10,000 of them stay within account 4001's £10,000.
    destination = "5003" if fail else ("5001" if i % 2 == 0 else "5002")  # 5003 is blocked
    return {
        "requestBody": {
            "profileId": "3001",
            "tag": f"payroll-{i + 1}",
            "source": {"type": "managed_accounts", "id": "4001"},
            "destination": {"type": "managed_cards", "id": destination},
            "destinationAmount": {"currency": "GBP", "amount": 1 + i % 50},
            "description": f"Card top-up {i + 1}",
        }
    }


def _send(i: int, fail: bool) -> Item:
    destination = (
        {"type": "managed_cards", "id": "5101"} if i % 2 == 0 else {"type": "managed_accounts", "id": "4101"}
    )
    return {
        "requestBody": {
            "profileId": "3101",
            "tag": f"supplier-{i + 1}",
            # 4003 is blocked: SOURCE_INSTRUMENT_BLOCKED.
            "source": {"type": "managed_accounts", "id": "4003" if fail else "4001"},
            "destination": destination,
            "destinationAmount": {"currency": "GBP", "amount": 1 + i % 50},
            "description": f"Invoice {10_000 + i}",
        }
    }


def _owt(i: int, fail: bool) -> Item:
    sepa = i % 2 == 0
    source = "4003" if fail else ("4002" if sepa else "4001")  # 4003 is blocked
    currency = "EUR" if sepa and not fail else "GBP"
    beneficiary = "7001" if sepa and not fail else "7002"  # SEPA for EUR, Faster Payments for GBP
    return {
        "requestBody": {
            "profileId": "3201",
            "tag": f"wire-{i + 1}",
            "sourceInstrument": {"type": "managed_accounts", "id": source},
            "transferAmount": {"currency": currency, "amount": 1 + i % 20},
            "destinationBeneficiary": {"beneficiaryId": beneficiary},
            # Faster Payments references are at most 18 characters, SEPA's 35.
            "description": f"INV {i + 1}"[:18],
        }
    }


def _user(i: int, fail: bool, token: str) -> Item:
    name = FIRST_NAMES[i % len(FIRST_NAMES)]
    surname = SURNAMES[(i // len(FIRST_NAMES)) % len(SURNAMES)]
    domain = "blocked.example" if fail else "acme.example"  # blocked.example: EMAIL_DOMAIN_NOT_ALLOWED
    return {
        "requestBody": {
            "name": name,
            "surname": surname,
            "email": f"{name.lower()}.{surname.lower()}.{token}{i + 1}@{domain}",
            "mobile": {"countryCode": "+44", "number": f"7700{900000 + i % 100000:06d}"[:12]},
            "roles": ["CARD_ASSIGNEE"],
            "tag": f"onboarding-{token}",
        }
    }


def generate(kind: OperationKind, size: int, fail_share: float = 0.0, *, token: str = "d") -> list[Item]:
    """``size`` items of ``kind`` of which ``fail_share`` fail at run time; raises ``GenerateError``.

    ``token`` makes the emails of a users bulk unique across bulks (the simulator rejects an email that
    exists anywhere in the programme): pass a different one for each bulk.
    """
    if not 1 <= size <= 10_000:
        raise GenerateError("a bulk holds 1 to 10,000 items")
    if kind in UNIQUE_TARGET_KINDS:
        return _unique_items(kind, size, fail_share)
    failing = failing_indices(size, fail_share)
    if kind is OperationKind.TRANSFERS:
        return [_transfer(i, i in failing) for i in range(size)]
    if kind is OperationKind.SENDS:
        return [_send(i, i in failing) for i in range(size)]
    if kind is OperationKind.OWT:
        return [_owt(i, i in failing) for i in range(size)]
    if kind is OperationKind.USERS:
        safe = "".join(ch for ch in token.lower() if ch.isalnum())[:12] or "d"
        return [_user(i, i in failing, safe) for i in range(size)]
    raise GenerateError(f"no generator for {kind}")


#: The largest items file read: a submission's body may not be larger (Weavr's limit, docs/behaviour.md), so
#: a larger file cannot be sent; reading stops past it (``/dev/zero`` grew the dashboard by 0.5 GB a second).
MAX_ITEMS_FILE_BYTES = 32 * 1024 * 1024


def load_items(path: Path) -> list[Item]:
    """Items from a JSON file: the submission array itself, or ``{"items": [...]}``."""
    file_path = Path(path).expanduser()
    try:
        # A regular file only: opening a named pipe blocks until something writes to it, and the dashboard
        # froze with it (its keys then fired as shortcuts once it woke; a user's trial).
        if not stat.S_ISREG(file_path.stat().st_mode):
            raise GenerateError(f"{path} is not a regular file")
        with file_path.open("rb") as file:
            raw = file.read(MAX_ITEMS_FILE_BYTES + 1)
    except OSError as exc:
        raise GenerateError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_ITEMS_FILE_BYTES:
        raise GenerateError(f"{path} is larger than a submission may be (32 MiB)")
    try:
        data = loads_bounded(raw)  # nesting is bounded before parsing: nothing recurses
    except JsonTooDeep:
        raise GenerateError(f"{path}: items are nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # not UTF-8 included
        raise GenerateError(f"{path} is not JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise GenerateError(f"{path} must hold a JSON array of items")
    if not data:  # said here, not sent for a 400
        raise GenerateError(f"{path} holds no items: a bulk holds 1 to 10,000")
    return data


def describe_limits(kind: OperationKind) -> str:
    """One line for the dialog: what the generated items do and how large the bulk may be."""
    spec = KINDS[kind]
    if kind in UNIQUE_TARGET_KINDS:
        ok = sum(1 for t in _targets(kind) if t.ok is not None)
        noun = "user" if kind is OperationKind.USER_INVITE else "card"
        some = f"{ok} demo {noun}" + ("" if ok == 1 else "s")
        return (
            f"{spec.title}: a bulk may name each {noun} only once and {some} can succeed, so at most {ok} "
            f"item(s) succeed. Failing items use demo {noun}s where it fails, then {noun} ids that do not "
            "exist (404)"
        )
    return {
        OperationKind.TRANSFERS: "4001 GBP → cards 5001/5002; failures go to blocked card 5003",
        OperationKind.SENDS: "4001 GBP → Globex 5101/4101; failures send from blocked account 4003",
        OperationKind.OWT: "4002 EUR → SEPA 7001, 4001 GBP → FP 7002; failures from blocked 4003",
        OperationKind.USERS: "new users with unique emails; failures use the blocked.example domain",
    }[kind]
