"""Where reports land unless told: a ``reports`` folder under the user's documents (or the per-user data dir
without one), never the current folder; and the path handed back to tell the user is always a full one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bulkdash.report import Report, default_report_root

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="platformdirs' XDG layout")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user-dirs.dirs: ~/Documents
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # the current folder: where reports used to land
    return home


def report() -> Report:
    return Report("1000001", "# Bulk 1000001\n", [], [])


def test_reports_go_to_the_documents_folder_when_there_is_one(home: Path, tmp_path: Path) -> None:
    (home / "Documents").mkdir()
    assert default_report_root() == home / "Documents" / "bulkdash" / "reports"
    written = report().write()
    assert written == home / "Documents" / "bulkdash" / "reports" / "bulkdash-report-1000001"
    assert (written / "report.md").read_text() == "# Bulk 1000001\n"
    assert not (tmp_path / "bulkdash-report-1000001").exists()


def test_without_documents_reports_go_to_the_user_data_dir(home: Path, tmp_path: Path) -> None:
    assert default_report_root() == tmp_path / "data" / "bulkdash" / "reports"
    assert not (home / "Documents").exists()  # not created for us


def test_an_explicit_folder_still_wins_and_comes_back_as_a_full_path(home: Path, tmp_path: Path) -> None:
    written = report().write(Path("mine"))
    assert written.is_absolute() and written == tmp_path / "mine"
    assert (written / "operations.jsonl").exists()


def test_a_report_never_replaces_another_unless_told_where(home: Path, tmp_path: Path) -> None:
    """A fresh simulator numbers its bulks from 1000001 again: the report of this run's bulk 1000001 must not
    replace the one of an earlier run (found by trying it: it did)."""
    (home / "Documents").mkdir()
    first = report().write()
    second = Report("1000001", "# Bulk 1000001, another run\n", [], []).write()
    third = report().write()
    assert [first.name, second.name, third.name] == [
        "bulkdash-report-1000001",
        "bulkdash-report-1000001-2",
        "bulkdash-report-1000001-3",
    ]
    assert (first / "report.md").read_text() == "# Bulk 1000001\n"
    assert (second / "report.md").read_text() == "# Bulk 1000001, another run\n"
    # Told where (``--out``): that directory, its files replaced.
    assert report().write(second) == second
    assert (second / "report.md").read_text() == "# Bulk 1000001\n"


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every report file fails to write, as on a full disk."""
    import bulkdash.report as module

    def failing(path: Path, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module, "_write_atomically", failing)


@pytest.mark.usefixtures("disk_full")
def test_a_report_that_cannot_be_written_leaves_no_empty_directory(home: Path) -> None:
    with pytest.raises(OSError):
        report().write()
    assert not any((default_report_root()).iterdir())


@pytest.mark.usefixtures("disk_full")
def test_a_folder_named_with_out_stays_when_the_report_cannot_be_written(home: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()  # the user's, empty
    with pytest.raises(OSError):
        report().write(mine)
    assert mine.is_dir()
