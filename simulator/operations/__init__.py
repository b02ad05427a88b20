"""The single-operation contracts of docs/behaviour.md §4.3, run in-process against the world.

``run_operation`` is what the engine calls for each bulk operation. It dispatches on the operation kind and
returns the single endpoint's status and body plus the transaction webhooks (§6.6) to publish. Business
failures are results, never exceptions. Bodies were validated at submission (§4.1), so nothing here
re-validates; handlers read the plain dicts.
"""

from __future__ import annotations

from typing import Any

from bulkdash.contract.kinds import OperationKind
from simulator.operations.cards import block_card, remove_card, unblock_card, update_spend_rules
from simulator.operations.common import Handler, OpResult, TxEvent
from simulator.operations.owt import create_owt
from simulator.operations.sends import create_send
from simulator.operations.transfers import create_transfer
from simulator.operations.users import create_user, invite_user
from simulator.world.model import Identity, World

HANDLERS: dict[OperationKind, Handler] = {
    OperationKind.USERS: create_user,
    OperationKind.USER_INVITE: invite_user,
    OperationKind.CARD_BLOCK: block_card,
    OperationKind.CARD_UNBLOCK: unblock_card,
    OperationKind.CARD_REMOVE: remove_card,
    OperationKind.SPEND_RULES: update_spend_rules,
    OperationKind.TRANSFERS: create_transfer,
    OperationKind.SENDS: create_send,
    OperationKind.OWT: create_owt,
}


def run_operation(
    world: World,
    identity: Identity,
    kind: OperationKind,
    path_params: dict[str, str],
    body: dict[str, Any] | None,
    now_ms: int,
) -> OpResult:
    """Run one operation of ``kind`` for ``identity`` at ``now_ms`` (epoch ms)."""
    return HANDLERS[kind](world, identity, path_params, body, now_ms)


__all__ = ["HANDLERS", "OpResult", "TxEvent", "run_operation"]
