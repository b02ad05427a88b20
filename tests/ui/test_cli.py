"""The dashboard's command line: flags for the embedded simulator and for a real endpoint, contradictions
refused before the UI, `listen`, `train` and `serve` intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkdash.cli import build_parser
from bulkdash.cli.dashboard import check_args, connector_for, run_dashboard


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
        (["--url", "notaurl", "--api-key", "k", "--token", "t"], "--url: must be an http:// or https:// URL"),
        (
            ["--url", "https://x.test/multi", "--sim", "127.0.0.1:8080"],
            "--sim: must be an http:// or https://",
        ),
        (["--url", "https://x.test:99999/multi"], "--url: not a URL"),
        (["--url", "https://x.test/multi", "--api-key", "k", "--token", "t", "--fresh"], "--fresh is for"),
        (
            ["--profile", "p", "--db", "x.db", "--op-delay-ms", "0"],
            "--db, --op-delay-ms are for the embedded",
        ),
        (["--receiver-port", "9100"], "--receiver-port is for a real endpoint"),
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
    from bulkdash.cli.serve import dashboard_command

    argv = dashboard_command(build_parser().parse_args(["serve", "--train", "--speed", "0.5", "--read-only"]))
    assert argv[1:] == ["-m", "bulkdash", "train", "--speed", "0.5", "--read-only"]


async def test_a_profile_with_sim_reaches_the_standalone_simulators_control_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--profile NAME --sim ROOT`` works (it used to drop --sim without a word)."""
    path = tmp_path / "config.toml"
    path.write_text('[profiles.sim]\nbase_url = "http://127.0.0.1:8080/multi"\napi_key = "k"\ntoken = "t"\n')
    path.chmod(0o600)
    seen: dict[str, object] = {}

    async def fake_remote(url: str, api_key: str, **kwargs: object) -> object:
        seen.update(kwargs, url=url)
        return object()

    monkeypatch.setattr("bulkdash.session.Session.remote", fake_remote)
    argv = ["--config", str(path), "--profile", "sim", "--sim", "http://127.0.0.1:8080", "--sim-token", "s"]
    args = build_parser().parse_args(argv)
    assert check_args(args) is None
    await connector_for(args)()
    assert seen["url"] == "http://127.0.0.1:8080/multi"
    assert (seen["sim_root"], seen["sim_token"]) == ("http://127.0.0.1:8080", "s")


def test_a_profile_whose_url_is_none_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.typo]\nbase_url = "sandbox.weavr.io/multi"\napi_key = "k"\ntoken = "t"\n')
    path.chmod(0o600)
    assert run_dashboard(build_parser().parse_args(["--config", str(path), "--profile", "typo"])) == 2
    err = capsys.readouterr().err
    assert err.startswith("bulkdash: profile 'typo': base_url: must be an http:// or https:// URL")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (
            ["serve", "--train", "--profile", "p"],
            "--train gives each tab its own fresh simulator: not with --profile",
        ),
        (
            ["serve", "--profile", "p", "--op-delay-ms", "5"],
            "--op-delay-ms is for the tabs' fresh simulators",
        ),
        (["--url", "https://x.test/multi", "train"], "--url does not apply to `bulkdash train`"),
        (["--fresh", "config", "path"], "--fresh does not apply to `bulkdash config`"),
        (["--sim", "http://127.0.0.1:1", "report", "7"], "--sim does not apply to `bulkdash report`"),
    ],
)
def test_commands_refuse_flags_they_would_ignore(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bulkdash.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert problem in err and len(err.splitlines()) == 1


def test_a_negative_op_delay_is_refused_by_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A user's trial: ``--op-delay-ms -3`` reached the simulator's settings and the dashboard showed
    pydantic's multi-line dump; it is refused before anything starts, in argparse's one line."""
    from bulkdash import cli as bulkdash_cli

    with pytest.raises(SystemExit) as exited:
        bulkdash_cli.main(["--op-delay-ms", "-3"])
    assert exited.value.code == 2
    assert "argument --op-delay-ms: must be 0 or more, not -3" in capsys.readouterr().err
