"""The simulator refuses settings it cannot run with, at start, in one line (``bulkdash-sim serve``)."""

from __future__ import annotations

import pytest

from simulator.cli import main
from simulator.settings import parse_rate_limits


@pytest.mark.parametrize("text", ["0;w=0", "5;w=0", "0;w=60", "-1;w=60", "100;w=-5"])
def test_a_rate_limit_below_one_is_refused_at_start(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    # '0;w=0' was taken, and every request was then answered 500 (a ZeroDivisionError in the limiter).
    with pytest.raises(ValueError, match="both at least 1"):
        parse_rate_limits(text)
    assert main(["serve", "--port", "0", f"--rate-limits={text}"]) == 2
    err = capsys.readouterr().err
    assert "both at least 1" in err and len(err.strip().splitlines()) == 1, err


def test_rate_limits_that_are_not_whole_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="two whole numbers"):
        parse_rate_limits("1.5;w=60")
    assert parse_rate_limits("off") == []
    assert parse_rate_limits("1000;w=3600, 100;w=60") == [(100, 60), (1000, 3600)]
