"""The nine bulk operation kinds (docs/behaviour.md §4.2), declared once as data.

Each kind says which literal bulk path submits it, which single endpoint each item stands for, which path
parameter the items carry, whether a request body is required, and which permissions allow it. The client
uses this table to build submissions, the simulator to route and validate them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OperationKind(StrEnum):
    USERS = "users"
    USER_INVITE = "user_invite"
    CARD_BLOCK = "card_block"
    CARD_UNBLOCK = "card_unblock"
    CARD_REMOVE = "card_remove"
    SPEND_RULES = "spend_rules"
    TRANSFERS = "transfers"
    SENDS = "sends"
    OWT = "outgoing_wire_transfers"


@dataclass(frozen=True, slots=True)
class KindSpec:
    kind: OperationKind
    method: str  # HTTP method of both the bulk submission and the single endpoint
    bulk_path: str  # literal submission path under /multi, e.g. "/bulks/managed_cards/_id_/block"
    single_template: str  # brace-form single endpoint template, e.g. "/managed_cards/{id}/block"
    path_param: str | None  # "_id_" / "_user_id_" or None
    body_required: bool  # requestBody required and stored (users, spend rules, money movement)
    permissions: tuple[str, ...]  # any one of these suffices
    title: str  # human label for the dashboard

    @property
    def operation(self) -> str:
        """``BulkProcess.operation``: method + space + single template (A19)."""
        return f"{self.method} {self.single_template}"

    def single_path(self, path_params: dict[str, str] | None) -> str:
        """The concrete single-endpoint path of one item, path parameters filled in."""
        if self.path_param is None:
            return self.single_template
        value = (path_params or {})[self.path_param]
        placeholder = "{user_id}" if self.path_param == "_user_id_" else "{id}"
        return self.single_template.replace(placeholder, str(value))


KINDS: dict[OperationKind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            OperationKind.USERS,
            "POST",
            "/bulks/users",
            "/users",
            None,
            True,
            ("i:users:create",),
            "Create users",
        ),
        KindSpec(
            OperationKind.USER_INVITE,
            "POST",
            "/bulks/users/_user_id_/invite",
            "/users/{user_id}/invite",
            "_user_id_",
            False,
            ("i:users:send_invite",),
            "Invite users",
        ),
        KindSpec(
            OperationKind.CARD_BLOCK,
            "POST",
            "/bulks/managed_cards/_id_/block",
            "/managed_cards/{id}/block",
            "_id_",
            False,
            ("i:managed_cards:block", "i:managed_cards:block:own"),
            "Block cards",
        ),
        KindSpec(
            OperationKind.CARD_UNBLOCK,
            "POST",
            "/bulks/managed_cards/_id_/unblock",
            "/managed_cards/{id}/unblock",
            "_id_",
            False,
            ("i:managed_cards:unblock", "i:managed_cards:unblock:own"),
            "Unblock cards",
        ),
        KindSpec(
            OperationKind.CARD_REMOVE,
            "POST",
            "/bulks/managed_cards/_id_/remove",
            "/managed_cards/{id}/remove",
            "_id_",
            False,
            ("i:managed_cards:remove",),
            "Remove cards",
        ),
        KindSpec(
            OperationKind.SPEND_RULES,
            "PATCH",
            "/bulks/managed_cards/_id_/spend_rules",
            "/managed_cards/{id}/spend_rules",
            "_id_",
            True,
            ("i:managed_cards:update_spendrules",),
            "Update spend rules",
        ),
        KindSpec(
            OperationKind.TRANSFERS,
            "POST",
            "/bulks/transfers",
            "/transfers",
            None,
            True,
            ("i:transfers:create",),
            "Transfers",
        ),
        KindSpec(
            OperationKind.SENDS, "POST", "/bulks/sends", "/sends", None, True, ("i:sends:create",), "Sends"
        ),
        KindSpec(
            OperationKind.OWT,
            "POST",
            "/bulks/outgoing_wire_transfers",
            "/outgoing_wire_transfers",
            None,
            True,
            ("i:owt:create",),
            "Outgoing wire transfers",
        ),
    )
}


#: Kinds whose bulks reject the same target twice (A8): compared on the path parameter.
UNIQUE_TARGET_KINDS = frozenset(
    {
        OperationKind.USER_INVITE,
        OperationKind.CARD_BLOCK,
        OperationKind.CARD_UNBLOCK,
        OperationKind.CARD_REMOVE,
        OperationKind.SPEND_RULES,
    }
)

BULK_PERMISSIONS = {
    "list": "i:bulks:list",
    "get": "i:bulks:get",
    "get_operations": "i:bulks:get_operations",
    "execute": "i:bulks:execute",
    "pause_and_resume": "i:bulks:pause_and_resume",
    "cancel": "i:bulks:cancel",
}
