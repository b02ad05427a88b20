"""``bulkdash classroom`` refuses what it cannot serve, in one line, before anything starts (a user's trial:
``--public-url notaurl`` was printed as the join address, and a missing ``--packs`` folder, or a file, was
taken without a word)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bulkdash.classroom.run import serve_classroom
from bulkdash.cli import main
from bulkdash.filelock import InUse
from bulkdash.serving import bind_socket_now
from simulator.cli import main as sim_main
from tests.classroom.conftest import RunningClass


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--public-url", "notaurl"], "--public-url must look like http://HOST:PORT"),
        (["--packs", "{tmp}/nowhere"], "--packs {tmp}/nowhere: no such folder"),
        (["--packs", "{tmp}/a-file.toml"], "--packs {tmp}/a-file.toml: not a folder"),
    ],
)
def test_the_class_refuses_bad_flags_in_one_line(
    flags: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file.toml").write_text("")
    argv = [flag.format(tmp=tmp_path) for flag in flags]
    # A port in use: had the flags been taken, the class would have failed on it (and said so) instead.
    with bind_socket_now("127.0.0.1", 0) as taken:
        port = str(taken.getsockname()[1])
        assert main(["classroom", "--port", port, "--data", str(tmp_path / "data"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bulkdash classroom: {said.format(tmp=tmp_path)}"), err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists()  # nothing started


def test_the_simulator_refuses_a_packs_folder_that_is_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sim_main(["serve", "--port", "0", "--packs", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == f"bulkdash-sim: --packs {tmp_path}/nowhere: no such folder"


async def test_a_second_classroom_on_the_same_data_folder_is_refused(
    classroom: RunningClass, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user's trial: a second classroom on the same folder shared the first one's class and worlds, and its
    "Start for everyone" changed the first one's trainees' scenario."""
    with bind_socket_now("127.0.0.1", 0) as spare:
        port = spare.getsockname()[1]
    with pytest.raises(InUse, match=r"is in use by another bulkdash classroom \(pid \d+\)"):
        second = serve_classroom(classroom.data, "127.0.0.1", port, f"http://127.0.0.1:{port}", "t", 1.0)
        await asyncio.wait_for(second, 10)  # taken, it would serve until stopped: fail, do not hang
    # From the command line: one line, exit 2 (in a thread: ``main`` runs its own event loop).
    argv = ["classroom", "--port", str(port), "--data", str(classroom.data)]
    assert await asyncio.to_thread(main, argv) == 2
    err = capsys.readouterr().err
    assert "is in use by another bulkdash classroom" in err and len(err.strip().splitlines()) == 1, err
