"""Snapshots of the bulks (home) screen."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.ui.helpers import connected
from tests.ui.snapshots.conftest import SNAP_SIZE, frozen_app, settle
from tests.ui.snapshots.flows import home_with_two_bulks


def test_home_empty(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await connected(pilot)

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))


def test_home_with_bulks(snap_compare) -> None:
    async def flow(pilot: Pilot) -> None:
        await home_with_two_bulks(pilot, size=100)

    assert snap_compare(frozen_app(), terminal_size=SNAP_SIZE, run_before=settle(flow))
