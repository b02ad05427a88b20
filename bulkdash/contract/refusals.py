"""Every refusal the dashboard can receive, in words: what it means, what to do, and the code kept in brackets
(``... Wait for it to finish or cancel it. [DUPLICATE_OPERATION_TYPE]``) so a support ticket still has it.

The wording is declared once, as data (``CODES``, ``RULES``, ``STATUSES``, ``PATTERNS``); the functions below
only pick an entry and fill in what the caller knows. They cover:

* Weavr's ``errorCode`` values: the 409s of the Multi bulk endpoints (docs/behaviour.md §3.8, §3.9, §4.1),
  the 403 ``INSUFFICIENT_PERMISSIONS``, and the operation-level codes of each single endpoint (§4.3), which
  reach the dashboard inside an operation's ``responsePayload``;
* the ``code`` of Weavr's default ``Error`` body (``NOT_FOUND``, ``INTERNAL_SERVER_ERROR``…, §8);
* a 400's ``syntaxErrors`` (§3.3): field, rule and limits in words;
* HTTP statuses that come without a body (401, 403 on login, 423, 429 with its reset, 5xx with Retry-After).

A lifecycle refusal reads better with context — which action, which bulk, its state, and which other bulk of
the same kind is running — so the caller passes a :class:`Context` with what it already knows (the service's
known bulks); nothing here asks the server. Plain data and functions: no I/O, and nothing from the client,
the service or the UI (``bulkdash.contract`` is shared by both sides).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from bulkdash.contract.kinds import BULK_PERMISSIONS, KINDS, OperationKind


class Wording(NamedTuple):
    """What a code means, and what the person can do about it."""

    means: str
    todo: str


# --- the wording table -----------------------------------------------------------------------------------

#: Every ``errorCode`` (and default-``Error`` ``code``) the dashboard can receive, in words. Contextual ones
#: (INVALID_STATE, DUPLICATE_OPERATION_TYPE, TOO_MANY_REQUESTS, NOT_FOUND, INSUFFICIENT_PERMISSIONS) are
#: phrased from the context when there is one; the entry here is their sentence without it.
CODES: dict[str, Wording] = {
    # 409 of the Multi bulk endpoints (§3.8, §3.9, §4.1; §8's list)
    "INVALID_STATE": Wording(
        "The bulk is not in a state that allows this action.",
        "Check its state in the list: execute needs SUBMITTED, pause RUNNING, resume PAUSED, and cancel any "
        "state that is not final.",
    ),
    "DUPLICATE_OPERATION_TYPE": Wording(
        "Another bulk of the same kind is running or paused; Weavr runs one bulk of a kind at a time per "
        "identity.",
        "Wait for it to finish or cancel it (a paused one still counts), then execute this one.",
    ),
    "TOO_MANY_REQUESTS": Wording(
        "This identity already has as many bulks running or paused as Weavr allows at once (3 on the "
        "simulator).",
        "Wait for one to finish or cancel one, then execute this one.",
    ),
    "ALREADY_SUBMITTED": Wording(
        "This idempotency-ref was already used, within the last 24 hours, for a bulk with a different body.",
        "Submit again under a new idempotency-ref (the dashboard makes a fresh one for each submission).",
    ),
    "NO_CONFIG_FOUND": Wording(
        "The bulk feature is not enabled for this identity, so it can neither list, submit nor run bulks.",
        "Ask for bulk processing to be enabled for it, or log in as a user of an identity that has it.",
    ),
    "VALIDATION_FAILED": Wording(
        "The bulk names the same target twice (the same card, or the same user to invite); each may appear "
        "once per bulk.",
        "Remove the repeated items and submit again.",
    ),
    "USER_VALIDATION_FAILED": Wording(
        "Two users in the bulk have the same email (ignoring case).",
        "Give each user an email of its own and submit again.",
    ),
    # 403 and the default Error body's codes (§2.6, §8)
    "INSUFFICIENT_PERMISSIONS": Wording(
        "This user lacks the permission this call needs (for a card unblock: the card was blocked by the "
        "system, which only Weavr can undo).",
        "Log in as a user whose role grants it, or ask an admin to grant it.",
    ),
    "STEP_UP_REQUIRED": Wording(
        "Weavr wants a step-up authentication (a second factor) before this call.",
        "Complete the step-up for this user, then try again.",
    ),
    "NOT_FOUND": Wording(
        "The server has no such resource for this identity (a bulk of another identity is not found "
        "either).",
        "Check the id, and that the base URL ends in /multi.",
    ),
    "METHOD_NOT_ALLOWED": Wording(
        "The server does not accept this method on this path.",
        "This is a client bug or a server of another version: report it with the request-ref.",
    ),
    "PAYLOAD_TOO_LARGE": Wording(
        "The request body is over the server's limit (32 MiB).",
        "Split the bulk into smaller ones (10,000 operations at most each).",
    ),
    "INTERNAL_SERVER_ERROR": Wording(
        "The server failed on its side, not because of the request.",
        "Try again; if it keeps failing, quote the request-ref to support.",
    ),
    "SERVICE_UNAVAILABLE": Wording(
        "The server is unavailable for now (maintenance, or it cannot store anything just now).",
        "Not yet: try again in a little while.",
    ),
    # POST /users (§4.3.1)
    "EMAIL_DOMAIN_NOT_ALLOWED": Wording(
        "The email's domain is not allowed for users of this programme.",
        "Use an address at another domain.",
    ),
    "EMAIL_NOT_UNIQUE": Wording(
        "A user of the programme already has this email (ignoring case), perhaps one created earlier in "
        "the same bulk.",
        "Use another email, or leave this user out.",
    ),
    "MOBILE_OR_COUNTRY_CODE_INVALID": Wording(
        "The mobile number or its country code is not valid (a country code cannot start with +0).",
        "Correct the mobile number, e.g. +44 and 7700900123.",
    ),
    "COUNTRY_OF_RESIDENCE_INVALID": Wording(
        "The country of residence is not a real country (a user-assigned ISO code such as ZZ or XA).",
        "Use the user's real two-letter country code, e.g. GB.",
    ),
    "ROLE_NOT_FOUND": Wording("One of the roles given does not exist.", "Use only roles the programme has."),
    "CANNOT_MODIFY_OWN_ROLES": Wording(
        "A user cannot change their own roles.", "Ask another admin to change them."
    ),
    "ADMIN_ROLE_REMOVAL_NOT_ALLOWED": Wording(
        "The ADMIN role cannot be removed this way.", "Ask Weavr support to change the admin."
    ),
    # POST /users/{user_id}/invite (§4.3.2)
    "INVITE_ALREADY_CONSUMED": Wording(
        "The user has already accepted an invite and set a password.",
        "There is nothing to send: the user can log in already.",
    ),
    # Cards: block, unblock, remove (§4.3.3)
    "INSTRUMENT_MARKED_LOST_STOLEN": Wording(
        "The card is marked lost or stolen, so it can be neither blocked nor unblocked.",
        "Leave it as it is; issue a new card if one is needed.",
    ),
    "INSTRUMENT_DESTROYED": Wording(
        "The card is destroyed (removed), so it can be neither blocked nor unblocked.",
        "Leave it out of the bulk.",
    ),
    "INSTRUMENT_ALREADY_BLOCKED": Wording(
        "The card is blocked already.", "Nothing to do: leave it out of the bulk."
    ),
    "INSTRUMENT_NOT_BLOCKED": Wording(
        "The card is not blocked, so there is nothing to unblock.", "Nothing to do: leave it out of the bulk."
    ),
    "INSTRUMENT_ALREADY_REMOVED": Wording(
        "The card is removed (destroyed) already.", "Nothing to do: leave it out of the bulk."
    ),
    "BALANCE_NOT_ZERO": Wording(
        "The prepaid card still holds money, and only an empty card can be removed.",
        "Move its balance elsewhere first, then remove it.",
    ),
    # PATCH /managed_cards/{id}/spend_rules (§4.3.4)
    "SPEND_LIMIT_NOT_SUPPORTED_FOR_PREPAID_MODE_CARD": Wording(
        "A prepaid card takes no spend limit (its balance is its limit).",
        "Leave spendLimit out for prepaid cards.",
    ),
    "SPEND_LIMIT_CURRENCY_DIFFERENT_FROM_CARD_CURRENCY": Wording(
        "A spend limit is in another currency than the card's.", "Give the limit in the card's currency."
    ),
    "SPEND_LIMIT_CURRENCY_DIFFERENT_FROM_USER_CURRENCY": Wording(
        "A spend limit is in another currency than the user's.", "Give the limit in the user's currency."
    ),
    "SPEND_LIMIT_DUPLICATE_INTERVAL": Wording(
        "Two spend limits have the same interval.", "Keep one limit per interval (DAILY, WEEKLY…)."
    ),
    "SPEND_LIMIT_AMOUNT_INVALID": Wording(
        "A spend limit's amount is zero or negative.", "Give a positive amount, in minor units."
    ),
    # Transfers, sends, outgoing wire transfers (§4.3.5 to §4.3.7)
    "PROFILE_INACTIVE": Wording(
        "The profileId is not an active profile for this kind of payment.",
        "Use the identity's active profile for it.",
    ),
    "PROFILE_NOT_FOUND": Wording("There is no such profile.", "Check the profileId."),
    "SOURCE_NOT_FOUND": Wording(
        "The source instrument does not exist in this identity.", "Check the source's id and type."
    ),
    "DESTINATION_NOT_FOUND": Wording(
        "The destination instrument does not exist (in this identity for a transfer, in this programme for "
        "a send).",
        "Check the destination's id and type.",
    ),
    "SOURCE_AND_DESTINATION_MUST_BE_DIFFERENT": Wording(
        "The source and the destination are the same instrument.", "Choose another destination."
    ),
    "SOURCE_INSTRUMENT_DESTROYED": Wording(
        "The source instrument is destroyed.", "Pay from another instrument."
    ),
    "DESTINATION_INSTRUMENT_DESTROYED": Wording(
        "The destination instrument is destroyed.", "Pay to another instrument."
    ),
    "SOURCE_INSTRUMENT_BLOCKED": Wording(
        "The source instrument is blocked.", "Unblock it, or pay from another instrument."
    ),
    "DESTINATION_INSTRUMENT_BLOCKED": Wording(
        "The destination instrument is blocked.", "Unblock it, or pay to another instrument."
    ),
    "SOURCE_CANNOT_BE_DEBIT_MODE_CARD": Wording(
        "The source is a debit-mode card, which cannot send money.", "Pay from an account or a prepaid card."
    ),
    "DESTINATION_CANNOT_BE_DEBIT_MODE_CARD": Wording(
        "The destination is a debit-mode card, which cannot receive money.",
        "Pay to an account or a prepaid card.",
    ),
    "CURRENCY_MISMATCH": Wording(
        "The amount's currency is not that of the instruments (or, for a wire transfer, does not suit the "
        "rail: Faster Payments needs GBP, SEPA EUR, RIX SEK).",
        "Use the instruments' currency.",
    ),
    "AMOUNT_INVALID": Wording("The amount is zero or negative.", "Give a positive amount, in minor units."),
    "SCHEDULED_TIMESTAMP_INVALID": Wording(
        "The scheduledTimestamp is not in the future.",
        "Give a future time in epoch milliseconds, or leave it out to pay now.",
    ),
    "FUNDS_INSUFFICIENT": Wording(
        "The source's balance is below the amount.", "Top the source up or lower the amount, then retry it."
    ),
    "BENEFICIARY_NOT_FOUND": Wording(
        "The beneficiary is not one of this identity's.", "Check the beneficiaryId."
    ),
    "BENEFICIARY_TYPE_INVALID": Wording(
        "The beneficiary is of the wrong type (a bank beneficiary for a send, an instrument for a wire "
        "transfer).",
        "Use a beneficiary of the right type.",
    ),
    "DESTINATION_BELONGS_TO_SAME_IDENTITY": Wording(
        "A send must go to another identity, and this destination is the sender's own.",
        "Use a transfer to move money between the identity's own instruments.",
    ),
    "EXTERNAL_DESTINATION_ACCOUNT_NOT_FOUND": Wording(
        "The linked account is not one of this identity's.", "Check the linked account's id."
    ),
    "TYPE_NOT_SUPPORTED_BY_PROFILE": Wording(
        "The profile does not offer this payment rail (SEPA, Faster Payments, SWIFT or RIX).",
        "Use a profile that offers it, or a beneficiary on another rail.",
    ),
    "PURPOSE_OF_PAYMENT_REQUIRED": Wording(
        "A SWIFT wire transfer needs a purpose.", "Give the payment's purpose."
    ),
    # The simulator's control API (Appendix B)
    "WORLD_NOT_PAUSED": Wording(
        "Stepping runs one operation of a paused world, and the world is running.",
        "Pause the world first, then step.",
    ),
}

#: The 400 ``syntaxErrors`` rules (§3.3 and Weavr's enum), each as the end of "<field> must …"; ``{0}``,
#: ``{1}``: the params in words, ``{all}``: every param listed.
RULES: dict[str, str] = {
    "REQUIRED": "is required",
    "HAS_TEXT": "must not be blank",
    "SIZE": "",  # phrased by _size: characters or items, bounds that may be absent
    "RANGE": "must be between {0} and {1}",
    "AT_LEAST": "must be at least {0}",
    "AT_MOST": "must be at most {0}",
    "IN": "must be one of {all}",
    "NOT_IN": "must not be any of {all}",
    "REGEX": "must be {pattern}",
    "EXACTLY": "must be exactly {all}",
    "REQUIRES": "needs {all} as well",
    "ALL_OR_NONE": "must come with {all}, or none of them",
}

_PLAIN_TEXT = "plain text: letters, digits, spaces and common punctuation"
#: ``REGEX`` patterns in words (the patterns of docs/behaviour.md §3.1, §3.3, §4.3); others are quoted.
PATTERNS: dict[str, str] = {
    "^[0-9]+$": "digits only, e.g. 1000001",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "an email address, e.g. name@example.com",
    "^[a-zA-Z0-9_-]+$": "letters, digits, _ and - only",
    "^[A-Z]*$": "capital letters only, e.g. GBP",
    "^[A-Z]+$": "capital letters only, e.g. GB",
    "^[A-Z]{2}$": "two capital letters, e.g. GB",
    r"^\+[0-9]+$": "a + and digits, e.g. +44",
    "^[0-9]{1,12}$": "1 to 12 digits",
    "^[0-9]{8}$": "8 digits",
    "^[0-9]{6}$": "6 digits",
    "^[a-z]{2}(-[A-Z]{2})?$": "a locale such as en or en-GB",
    "^[a-zA-Z0-9]+$": "letters and digits only",
    r"""^[a-zA-Z0-9\/\-?:().$_,'+\s#=!"%&*<>;\{@\r\n]*$""": _PLAIN_TEXT,  # description
    r"""^[a-zA-Z0-9\/\-?:().,'+\s#=!"%&*<>;\{@\r\n]*$""": _PLAIN_TEXT,  # a Faster Payments name
    "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$": "an IBAN in capitals without spaces, e.g. GB33BUKB20201555555555",
    "^[a-zA-Z0-9]{4}[a-zA-Z]{2}[a-zA-Z0-9]{2}[a-zA-Z0-9]{0,3}$": "a BIC, e.g. DEUTDEFF or DEUTDEFF500",
    "^[a-zA-Z0-9]{8,11}$": "a BIC of 8 to 11 letters and digits, e.g. DEUTDEFF",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "a date as YYYY-MM-DD",
    "^[a-zA-Z0-9]{1,34}$": "1 to 34 letters and digits",
}

#: The first words of an answer by HTTP status ("Server error: boom. …"), as the status bar has them.
LEADS: dict[int, str] = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Refused",
    413: "Request too large",
    423: "Locked out",
    429: "Rate limited by the server",
    500: "Server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
#: Messages that only repeat the lead (the default ``Error`` bodies of §8): not said twice.
STANDARD_MESSAGES = frozenset(
    {"Internal server error", "Service temporarily unavailable", "Resource not found"}
)
_NOT_YET = "Not yet: try again in a little while."

#: HTTP statuses in words, for answers without an ``errorCode`` (a ``code`` of ``CODES`` wins over these).
STATUSES: dict[int, Wording] = {
    400: Wording(
        "The server could not read the request.", "This is a client bug: report it with the request-ref."
    ),
    401: Wording(
        "The api-key or token was refused (an expired or revoked token, or an api-key the server does not "
        "know).",
        "Log in again, or check the api-key of this profile.",
    ),
    403: Wording(
        "This user lacks the permission this call needs.",
        "Log in as a user whose role grants it, or ask an admin to grant it.",
    ),
    404: CODES["NOT_FOUND"],
    405: CODES["METHOD_NOT_ALLOWED"],
    409: Wording("The server refused the request as a conflict.", "The API log has its full answer."),
    413: CODES["PAYLOAD_TOO_LARGE"],
    423: Wording(
        "This user is locked after too many wrong passwords (for 30 minutes on the simulator).",
        "Wait until the lock ends, then log in with the right password.",
    ),
    429: Wording("Too many requests in the current window.", "Try again once the window resets."),
    500: CODES["INTERNAL_SERVER_ERROR"],
    502: Wording("A gateway in front of the server got no good answer from it.", _NOT_YET),
    503: CODES["SERVICE_UNAVAILABLE"],
    504: Wording("A gateway in front of the server timed out waiting for it.", _NOT_YET),
}

#: When logging in, a bare 401 or 403 is about the credentials, not a token or a permission (§2.2).
LOGIN_STATUSES: dict[int, Wording] = {
    401: Wording(
        "The api-key was refused: the server does not know it.", "Check the api-key of this profile."
    ),
    403: Wording(
        "The email or password is wrong, or the user has no password yet (an invite not yet accepted).",
        "Check both and log in again; 5 wrong passwords in a row lock the user out.",
    ),
}

#: The lifecycle actions (§5.1): the states each is allowed from, and its words.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "execute": ("SUBMITTED",),
    "pause": ("RUNNING",),
    "resume": ("PAUSED",),
    "cancel": ("SUBMITTED", "RUNNING", "PAUSED"),
}
_DOING = {"execute": "executing", "pause": "pausing", "resume": "resuming", "cancel": "cancelling"}
_DONE = {"execute": "executed", "pause": "paused", "resume": "resumed", "cancel": "cancelled"}
FINAL_STATES = ("COMPLETED", "PARTIALLY_COMPLETED", "FAILED", "CANCELLED")
#: The bulks that block an execute of the same kind (DUPLICATE_OPERATION_TYPE) or count towards the limit.
ACTIVE_STATES = ("RUNNING", "PAUSED")
#: The permission each action needs (§2.4), named in a 403.
ACTION_PERMISSIONS: dict[str, str] = {
    "execute": BULK_PERMISSIONS["execute"],
    "pause": BULK_PERMISSIONS["pause_and_resume"],
    "resume": BULK_PERMISSIONS["pause_and_resume"],
    "cancel": BULK_PERMISSIONS["cancel"],
}

#: A bulk's kind as a noun ("another transfers bulk"), by its ``operation`` (``"POST /transfers"``).
KIND_NOUNS: dict[str, str] = {
    KINDS[OperationKind.USERS].operation: "create-users",
    KINDS[OperationKind.USER_INVITE].operation: "user-invite",
    KINDS[OperationKind.CARD_BLOCK].operation: "card-block",
    KINDS[OperationKind.CARD_UNBLOCK].operation: "card-unblock",
    KINDS[OperationKind.CARD_REMOVE].operation: "card-remove",
    KINDS[OperationKind.SPEND_RULES].operation: "spend-rules",
    KINDS[OperationKind.TRANSFERS].operation: "transfers",
    KINDS[OperationKind.SENDS].operation: "sends",
    KINDS[OperationKind.OWT].operation: "outgoing-wire-transfers",
}

#: Field names (their last segment) that are arrays, so a ``SIZE`` counts items, not characters (§4.3).
LIST_FIELDS = frozenset(
    {
        "roles",
        "spendLimit",
        "allowedMerchantCategories",
        "blockedMerchantCategories",
        "allowedMerchantIds",
        "blockedMerchantIds",
        "allowedMerchantCountries",
        "blockedMerchantCountries",
    }
)
#: How ``SIZE`` writes an absent bound (§3.3).
_NO_MIN, _NO_MAX = "0", "2147483647"
#: Syntax errors named one by one in a sentence; the rest are counted.
MAX_FIELDS = 5


# --- context -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownBulk:
    """A bulk the caller has seen: its id, last status and ``operation`` (each may be unknown)."""

    bulk_id: str
    status: str | None = None
    operation: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What the caller knows about a refused call: the ``action`` (execute, pause, resume, cancel, submit…),
    the ``bulk_id`` it was for, that bulk's last seen ``status`` and ``operation``, and the ``known`` bulks
    (others of the identity, as last seen)."""

    action: str | None = None
    bulk_id: str | None = None
    status: str | None = None
    operation: str | None = None
    known: tuple[KnownBulk, ...] = ()


# --- sentences ---------------------------------------------------------------------------------------------


def _join(words: Sequence[str], last: str = "and") -> str:
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _sentence(wording: Wording, tag: str) -> str:
    return f"{wording.means} {wording.todo} [{tag}]"


def knows(code: str) -> bool:
    """True when ``code`` has words of its own (an unknown one still gets a sentence, a generic one)."""
    return code in CODES


def meaning(code: str) -> str:
    """What ``code`` means, one sentence, without advice or brackets (for a table cell); the code itself
    when it has no words."""
    wording = CODES.get(code)
    return wording.means if wording is not None else code


def refusal(code: str, context: Context | None = None) -> str:
    """The sentence for an ``errorCode`` (or default-``Error`` ``code``), with ``context`` when given."""
    ctx = context or Context()
    contextual = _CONTEXTUAL.get(code)
    if contextual is not None:
        phrased = contextual(ctx)
        if phrased is not None:
            return f"{phrased} [{code}]"
    wording = CODES.get(code)
    if wording is None:
        return (
            f"The server refused this with a code the dashboard has no words for yet; the API log has its "
            f"full answer. [{code}]"
        )
    return _sentence(wording, code)


def operation_failure(code: str) -> str:
    """An operation's failure (the ``errorCode`` of its ``responsePayload``) in words, code in brackets."""
    return refusal(code)


def _kind_noun(operation: str | None) -> str | None:
    if operation is None:
        return None
    return KIND_NOUNS.get(operation) or operation


def _bulk(ctx: Context) -> str:
    return f"Bulk {ctx.bulk_id}" if ctx.bulk_id else "The bulk"


def _invalid_state(ctx: Context) -> str | None:
    action = ctx.action
    if action not in ALLOWED_FROM:
        return None
    needs = _join(ALLOWED_FROM[action], "or")
    doing = _DOING[action]
    state = ctx.status
    if state is None:
        return (
            f"{_bulk(ctx)} is not in a state that allows {doing}, which needs it {needs}. Check its state "
            "in the list."
        )
    if state in ALLOWED_FROM[action]:
        # Last seen in a state that allows it: the state changed meanwhile (the last operation finished,
        # an ON_FAILURE_STOP failure ended it, or another user acted on it).
        return (
            f"{_bulk(ctx)} was last seen {state}, which allows {doing}, so its state has changed since (it "
            "may have just finished, or someone else acted on it). Wait for the list to show its state now."
        )
    already = " (it has been executed already)" if action == "execute" and state != "CANCELLED" else ""
    if state in FINAL_STATES:
        return (
            f"{_bulk(ctx)} is {state}, a final state, and {doing} needs it {needs}{already}. A final bulk "
            "takes no more actions."
        )
    allowed = [_DONE[a] for a, froms in ALLOWED_FROM.items() if state in froms]
    can = f" A {state} bulk can be {_join(allowed, 'or')}." if allowed else ""
    return f"{_bulk(ctx)} is {state}, and {doing} needs it {needs}{already}.{can}"


def _others(ctx: Context, same_kind: bool) -> list[KnownBulk]:
    return [
        b
        for b in ctx.known
        if b.bulk_id != ctx.bulk_id
        and b.status in ACTIVE_STATES
        and (not same_kind or (ctx.operation is not None and b.operation == ctx.operation))
    ]


def _duplicate(ctx: Context) -> str | None:
    kind = _kind_noun(ctx.operation)
    noun = f"{kind} bulk" if kind else "bulk of the same kind"
    # Pausing the other bulk is no way out: a PAUSED bulk blocks an execute of its kind too (§3.8).
    why = "Weavr runs one bulk of a kind at a time per identity"
    others = _others(ctx, same_kind=True)
    if not others:
        return (
            f"Another {noun} is running or paused in this identity; {why}. Wait for it to finish or "
            "cancel it (a paused one still counts), then execute this one."
        )
    if len(others) == 1:
        other = others[0]
        if other.status == "PAUSED":
            return (
                f"Another {noun}, {other.bulk_id}, is paused; {why}, and a paused one still counts. "
                "Resume it and let it finish, or cancel it, then execute this one."
            )
        return (
            f"Another {noun}, {other.bulk_id}, is running; {why}. Wait for it to finish or cancel it "
            "(pausing it is not enough), then execute this one."
        )
    ids = _join([f"{b.bulk_id} ({b.status.lower() if b.status else '?'})" for b in others])
    plural = f"{kind} bulks" if kind else "bulks of the same kind"
    return (
        f"Other {plural}, {ids}, are running or paused; {why}. Let them finish or cancel them, then "
        "execute this one."
    )


def _too_many(ctx: Context) -> str | None:
    if ctx.action not in (None, "execute"):
        return None
    others = _others(ctx, same_kind=False)
    if not others:
        return None
    ids = _join([f"{b.bulk_id} ({b.status.lower() if b.status else '?'})" for b in others])
    return (
        f"This identity already has {len(others)} bulks running or paused, {ids}: as many as Weavr runs at "
        "once. Wait for one to finish or cancel one, then execute this one."
    )


def _not_found(ctx: Context) -> str | None:
    if not ctx.bulk_id:
        return None
    return (
        f"Bulk {ctx.bulk_id} does not exist for this identity (Weavr answers the same for a bulk of another "
        "identity). Check the id, and that you are logged in to the identity that submitted it."
    )


def _permission(ctx: Context) -> str | None:
    permission = ACTION_PERMISSIONS.get(ctx.action or "")
    if permission is None:
        return None
    doing = _DOING.get(ctx.action or "", ctx.action or "")
    return (
        f"This user lacks the permission {permission}, which {doing} a bulk needs. Log in as a user whose "
        "role grants it, or ask an admin to grant it."
    )


_CONTEXTUAL = {
    "INVALID_STATE": _invalid_state,
    "DUPLICATE_OPERATION_TYPE": _duplicate,
    "TOO_MANY_REQUESTS": _too_many,
    "NOT_FOUND": _not_found,
    "INSUFFICIENT_PERMISSIONS": _permission,
}


# --- syntax errors -----------------------------------------------------------------------------------------


def _number(text: str) -> str:
    """``"10000"`` as ``10,000`` (but a year stays ``2100``); anything that is not an integer as it came."""
    try:
        value = int(text)
    except ValueError:
        return text
    return f"{value:,}" if abs(value) >= 10_000 else str(value)


_ITEM = re.compile(r"^\[(\d+)\](?:\.(.*))?$")


def field_label(field: str) -> str:
    """A ``fieldName`` for a sentence: ``[3].requestBody.email`` is ``requestBody.email (operation 4)``
    (sequences count from 1, indexes from 0); ``""`` is the request body."""
    if not field:
        return "The request body"
    match = _ITEM.match(field)
    if match is None:
        return field
    sequence = int(match.group(1)) + 1
    return f"{match.group(2)} (operation {sequence})" if match.group(2) else f"Operation {sequence}"


def _size(field: str, params: Sequence[str]) -> str:
    low = params[0] if params else _NO_MIN
    high = params[1] if len(params) > 1 else _NO_MAX
    if not field:
        # Only a submission's body is an array (§4.1): its size is the number of operations.
        return f"The bulk must hold between {_number(low)} and {_number(high)} operations (body)"
    last = re.split(r"[.\]]", field)[-1]
    unit = "items" if last in LIST_FIELDS else "characters"
    if low == high:
        bounds = f"exactly {_number(low)}"
    elif high == _NO_MAX:
        bounds = f"at least {_number(low)}"
    elif low == _NO_MIN:
        bounds = f"at most {_number(high)}"
    else:
        bounds = f"between {_number(low)} and {_number(high)}"
    if bounds.endswith(" 1"):
        unit = unit[:-1]  # "at least 1 item", "at most 1 character"
    verb = "must hold" if unit.startswith("item") else "must be"
    tail = "" if unit.startswith("item") else " long"
    return f"{field_label(field)} {verb} {bounds} {unit}{tail}"


def syntax_error(field: str, rule: str, params: Sequence[str] = ()) -> str:
    """One ``invalidFields`` entry in words, the rule in brackets: ``bulk_id must be digits only, e.g.
    1000001 [REGEX]``."""
    params = [str(p) for p in params]
    if rule == "SIZE":
        return f"{_size(field, params)} [SIZE]"
    template = RULES.get(rule)
    label = field_label(field)
    if template is None:
        listed = f" {_join(params)}" if params else ""
        return f"{label} breaks the rule {rule}{listed} [{rule}]"
    numbers = [_number(p) for p in params] + ["?", "?"]
    pattern = params[0] if params else ""
    words = PATTERNS.get(pattern) or f"of the form {pattern}"
    text = template.format(*numbers, all=_join(params, "or") or "?", pattern=words)
    return f"{label} {text} [{rule}]"


def syntax_errors(fields: Iterable[Mapping[str, Any]]) -> str:
    """A 400's ``invalidFields`` in words: the first ``MAX_FIELDS`` named, the rest counted."""
    entries = list(fields)
    parts = [
        syntax_error(str(f.get("fieldName") or ""), str(f.get("error") or "?"), f.get("params") or ())
        for f in entries[:MAX_FIELDS]
    ]
    more = f"; and {len(entries) - MAX_FIELDS} more" if len(entries) > MAX_FIELDS else ""
    return "; ".join(parts) + more


# --- whole answers -----------------------------------------------------------------------------------------


def _wait(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f" in {max(0, round(seconds)):.0f} s"


def rate_limited(limit: str | None, wait_s: float | None) -> str:
    """A 429 that is not waited out: which limit, and when to try again (its ``x-ratelimit-reset``)."""
    per = f" ({limit} per window)" if limit else ""
    again = f"try again{_wait(wait_s)}" if wait_s is not None else "try again once its window resets"
    return f"{LEADS[429]}{per}; {again}. Weavr counts requests per api-key. [HTTP 429]"


def status_sentence(
    status: int,
    *,
    code: str | None = None,
    message: str | None = None,
    retry_after_s: float | None = None,
    login: bool = False,
) -> str:
    """An answer without an ``errorCode`` in words: the status's lead, the server's ``message`` when it
    says more, what it means (from ``code`` when it has words, else from the status) and what to do."""
    lead = LEADS.get(status, f"HTTP {status}")
    wording = (
        CODES.get(code or "")
        or (LOGIN_STATUSES.get(status) if login else None)
        or STATUSES.get(status)
        or Wording(
            "The server failed unexpectedly." if status >= 500 else "The server refused the request.",
            _NOT_YET if status >= 500 else "The API log has its full answer.",
        )
    )
    said = f": {message.rstrip('.')}" if message and message not in STANDARD_MESSAGES else ""
    todo = wording.todo
    if status >= 500 and retry_after_s is not None:
        todo = f"Not yet: try again{_wait(retry_after_s)}."
    return f"{lead}{said}. {wording.means} {todo} [{code or f'HTTP {status}'}]"


def answer(
    status: int,
    body: Any,
    context: Context | None = None,
    *,
    retry_after_s: float | None = None,
    login: bool = False,
) -> tuple[str, str | None]:
    """(sentence, code) for an error answer: an ``errorCode``, ``syntaxErrors``, a default ``Error``
    (``code``/``message``), or a bare status. ``code`` is the errorCode, ``VALIDATION`` for syntax errors,
    the ``Error``'s code, or None."""
    if isinstance(body, dict):
        error_code = body.get("errorCode")
        if error_code:
            return refusal(str(error_code), context), str(error_code)
        fields = (body.get("syntaxErrors") or {}).get("invalidFields") or []
        if fields:
            return syntax_errors(fields), "VALIDATION"
        code = str(body["code"]) if body.get("code") else None
        message = str(body["message"]) if body.get("message") else None
        contextual = _CONTEXTUAL.get(code or "")
        phrased = contextual(context or Context()) if contextual is not None else None
        if phrased is not None:
            return f"{phrased} [{code}]", code
        sentence = status_sentence(
            status, code=code, message=message, retry_after_s=retry_after_s, login=login
        )
        return sentence, code
    return status_sentence(status, retry_after_s=retry_after_s, login=login), None
