"""Fixtures for the single-operation tests: a fresh Appendix A world per test and its identities."""

from __future__ import annotations

import itertools

import pytest

from simulator.world.model import Identity, World
from simulator.world.seed import build_seed_world


@pytest.fixture
def world() -> World:
    counter = itertools.count(1000001)
    return build_seed_world(lambda: str(next(counter)))


@pytest.fixture
def acme(world: World) -> Identity:
    return world.identities["1001"]


@pytest.fixture
def globex(world: World) -> Identity:
    return world.identities["1002"]


@pytest.fixture
def initech(world: World) -> Identity:
    return world.identities["1004"]
