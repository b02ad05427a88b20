"""``POST /users`` (docs/behaviour.md §4.3.1) and ``POST /users/{user_id}/invite`` (§4.3.2) against the
world."""

from __future__ import annotations

from copy import deepcopy
from string import ascii_uppercase
from typing import Any

from simulator.operations.common import (
    OpResult,
    conflict,
    injected_fault,
    no_content,
    not_found,
    put_optional,
)
from simulator.world.model import Identity, User, World

BLOCKED_EMAIL_DOMAIN = "blocked.example"
#: Optional UserCreate properties echoed back in the User and kept on the stored user.
OPTIONAL_USER_FIELDS = ("mobile", "dateOfBirth", "tag", "countryOfResidence", "locale", "brand")


#: ISO 3166 user-assigned codes (AA, QM-QZ, XA-XZ, ZZ): never a real country of residence.
USER_ASSIGNED_COUNTRIES = frozenset(
    {"AA", "ZZ"} | {"Q" + c for c in ascii_uppercase if c >= "M"} | {"X" + c for c in ascii_uppercase}
)


def create_user(
    world: World, identity: Identity, path_params: dict[str, str], body: dict[str, Any] | None, now_ms: int
) -> OpResult:
    assert body is not None  # validated at submission: users always carry a body
    fault = injected_fault(body)
    if fault is not None:
        return fault
    email: str = body["email"]
    if email.rsplit("@", 1)[-1].lower() == BLOCKED_EMAIL_DOMAIN:
        return conflict("EMAIL_DOMAIN_NOT_ALLOWED")
    # Programme-wide and case-insensitive; users created earlier in the same bulk are already in the index.
    if world.user_by_email(identity.programme, email) is not None:
        return conflict("EMAIL_NOT_UNIQUE")
    mobile = body.get("mobile")
    if mobile is not None and str(mobile["countryCode"]).startswith("+0"):
        return conflict("MOBILE_OR_COUNTRY_CODE_INVALID")
    country = body.get("countryOfResidence")
    if country is not None and country in USER_ASSIGNED_COUNTRIES:
        return conflict("COUNTRY_OF_RESIDENCE_INVALID")

    extra: dict[str, Any] = {}
    put_optional(extra, body, *OPTIONAL_USER_FIELDS)
    extra = deepcopy(extra)  # the stored user must never alias the request body (mobile, dateOfBirth)
    roles = body.get("roles")
    user = User(
        id=world.next_id(),
        programme=identity.programme,
        identity_id=identity.id,
        email=email,
        name=body["name"],
        surname=body["surname"],
        credential_type="USER",
        roles=list(roles) if roles is not None else [],
        password=None,  # the invite stays open until the user sets a password
        extra=extra,
    )
    world.add_user(user)
    out: dict[str, Any] = {
        "id": user.id,
        "identity": {"type": identity.type, "id": identity.id},
        "name": user.name,
        "surname": user.surname,
        "email": user.email,
        "active": True,
    }
    out.update(deepcopy(extra))
    if roles is not None:
        out["roles"] = list(roles)
    return OpResult(200, out, [])


def invite_user(
    world: World, identity: Identity, path_params: dict[str, str], body: dict[str, Any] | None, now_ms: int
) -> OpResult:
    user = world.users.get(path_params["_user_id_"])
    if user is None or user.identity_id != identity.id:
        return not_found()
    if user.password is not None:
        return conflict("INVITE_ALREADY_CONSUMED")
    user.invites_sent += 1
    world.touch_user(user)
    return no_content()
