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
        (["--sim", "http://127.0.0.1:8080"], "--sim is for a standalone bulkdash-sim"),
    ],
)
def test_inconsistent_flags_are_refused_before_the_ui(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(argv)
    assert run_dashboard(args) == 2
    assert problem in capsys.readouterr().err


def test_train_parses_and_refuses_a_bad_speed(capsys: pytest.CaptureFixture[str]) -> None:
    from bulkdash.cli import main

    args = build_parser().parse_args(["train", "--speed", "0.5", "--read-only"])
    assert (args.command, args.speed, args.read_only) == ("train", 0.5, True)
    assert build_parser().parse_args(["--read-only", "train"]).read_only  # the flag before the command
    with pytest.raises(SystemExit) as refused:
        main(["train", "--speed", "50"])
    assert refused.value.code == 2
    assert "--speed: must be between 0.1 and 10, not 50" in capsys.readouterr().err


def test_serve_train_gives_each_tab_a_training_dashboard() -> None:
    from bulkdash.web import dashboard_command

    argv = dashboard_command(build_parser().parse_args(["serve", "--train", "--speed", "0.5", "--read-only"]))
    assert argv[1:] == ["-m", "bulkdash", "train", "--speed", "0.5", "--read-only"]
