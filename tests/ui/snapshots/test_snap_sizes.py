"""Snapshots of the bulks and run screens in a small terminal (80×24) and a large one (160×50): the footer
fits its keys (short labels, then "? more"), and shows only the lifecycle keys the bulk's state allows."""

from __future__ import annotations

import functools

import pytest

from tests.ui.snapshots.conftest import frozen_app, settle
from tests.ui.snapshots.flows import home_with_two_bulks, running_bulk

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 50), id="160x50")]


@pytest.mark.parametrize("size", SIZES)
def test_home(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(
        frozen_app(), terminal_size=size, run_before=settle(functools.partial(home_with_two_bulks, size=20))
    )


@pytest.mark.parametrize("size", SIZES)
def test_run_running(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(
        frozen_app(), terminal_size=size, run_before=settle(functools.partial(running_bulk, cursor_row=0))
    )
