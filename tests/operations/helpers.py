"""Body builders for the single-operation tests (valid bodies, as validated at submission)."""

from __future__ import annotations

from typing import Any

#: The §4.3.5 example's creation time, used as "now" throughout.
NOW = 1767225600120


def inst(id_: str) -> dict[str, str]:
    """An InstrumentId; seed accounts are 4xxx, seed cards 5xxx."""
    return {"type": "managed_accounts" if id_.startswith("4") else "managed_cards", "id": id_}


def transfer(
    src: str = "4001", dst: str = "5001", amount: int = 1500, currency: str = "GBP", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "profileId": "3001",
        "source": inst(src),
        "destination": inst(dst),
        "destinationAmount": {"currency": currency, "amount": amount},
    }
    body.update(extra)
    return body


def send(
    src: str = "4001",
    dst: str | dict[str, Any] = "4101",
    amount: int = 500,
    currency: str = "GBP",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "profileId": "3101",
        "source": inst(src),
        "destination": inst(dst) if isinstance(dst, str) else dst,
        "destinationAmount": {"currency": currency, "amount": amount},
    }
    body.update(extra)
    return body


SEPA_INLINE = {"name": "Hans Muster", "iban": "DE89370400440532013000", "bankIdentifierCode": "COBADEFFXXX"}
FP_INLINE = {"name": "Jane Roe", "type": "PERSONAL", "accountNumber": "31926819", "sortCode": "601613"}
SWIFT_INLINE = {"name": "Wu Li", "account": "CN12345678", "address": "1 Bund Rd", "bankCountry": "CN"}


def owt(
    src: str = "4002",
    beneficiary: dict[str, Any] | None = None,
    amount: int = 10_000,
    currency: str = "EUR",
    **extra: Any,
) -> dict[str, Any]:
    """A SEPA wire to beneficiary 7001 by default (EUR from 4002, with a reference)."""
    body: dict[str, Any] = {
        "profileId": "3201",
        "sourceInstrument": {"type": "managed_accounts", "id": src},
        "transferAmount": {"currency": currency, "amount": amount},
        "destinationBeneficiary": beneficiary if beneficiary is not None else {"beneficiaryId": "7001"},
        "description": "INV-2026-001",
    }
    body.update(extra)
    return body


def user(email: str = "ian@acme.example", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Ian", "surname": "Ng", "email": email}
    body.update(extra)
    return body
