"""A ``DashboardService`` connected to a fresh embedded simulator, closed after the test (no Textual)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bulkdash.service import DashboardService
from tests.service.helpers import embedded


@pytest.fixture
async def service() -> AsyncIterator[DashboardService]:
    service = DashboardService(embedded)
    assert await service.connect() is not None
    yield service
    await service.aclose()
