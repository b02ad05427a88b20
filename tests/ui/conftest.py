"""Every dashboard test fails on an exception that escaped a handler, a timer or a worker.

The dashboard catches those itself (``bulkdash.ui.guard``: an error notice, a log entry, the app stays up),
where Textual would have ended the app and ``run_test`` re-raised it. So the tests keep that strictness here:
whatever ``BulkdashApp.report_exception`` caught fails the test at its end, unless the test injects one on
purpose (``@pytest.mark.unexpected_errors``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bulkdash.ui.app import BulkdashApp


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "unexpected_errors: the test injects an exception that the dashboard must catch"
    )


@pytest.fixture(autouse=True)
def no_unexpected_errors(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    caught: list[tuple[str, BaseException]] = []
    report = BulkdashApp.report_exception

    def recording(app: BulkdashApp, error: BaseException, where: str) -> None:
        caught.append((where, error))
        report(app, error, where)

    monkeypatch.setattr(BulkdashApp, "report_exception", recording)
    yield
    if request.node.get_closest_marker("unexpected_errors") is None and caught:
        where, error = caught[0]
        raise AssertionError(
            f"{len(caught)} unexpected error(s) caught by the dashboard, first in {where}"
        ) from (error)
