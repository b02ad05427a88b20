"""The dashboard's command line: flags for the embedded simulator and for a real endpoint, `listen` intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkdash.app import check_args, run_dashboard
from bulkdash.cli import build_parser


def test_dashboard_flags_parse() -> None:
    args = build_parser().parse_args(["--db", "x.db", "--op-delay-ms", "5", "--fresh"])
    assert args.command is None
    assert (args.db, args.op_delay_ms, args.fresh) == (Path("x.db"), 5, True)
    assert check_args(args) is None
    args = build_parser().parse_args(
        ["--url", "https://example.test/multi", "--api-key", "k", "--token", "t"]
    )
    assert check_args(args) is None


def test_listen_still_parses() -> None:
    args = build_parser().parse_args(["listen", "--port", "0", "--key", "k"])
    assert args.command == "listen" and args.port == 0


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--url", "https://example.test/multi", "--token", "t", "--api-key", ""], "--api-key"),
        (["--url", "https://example.test/multi", "--api-key", "k", "--token", ""], "--token"),
        (["--email", "a@b.example"], "give --url too"),
    ],
)
def test_inconsistent_flags_are_refused_before_the_ui(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(argv)
    assert run_dashboard(args) == 2
    assert problem in capsys.readouterr().err
