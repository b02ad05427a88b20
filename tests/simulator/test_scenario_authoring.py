"""Packs written by trainers: ``scenario new`` writes a template that validates, lints clean and plays to
MATCH; ``scenario validate`` names the line and field of every problem; ``scenario schema`` describes the
format; packs load from the user's folder and ``--packs`` beside the shipped ones; a broken one is left out
with its reason instead of taking the others down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.scenarios import get_scenario, list_scenarios, pack_problems, reload_packs
from simulator.scenarios.authoring import key_lines, line_of, template, validate_file
from simulator.scenarios.sources import ENV, user_packs_dir


@pytest.fixture(autouse=True)
def own_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user data dir of the test's own (so a developer's packs never leak in), no --packs folders."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # setenv, not delenv: monkeypatch records (and so restores) only a variable it found or set, and the
    # commands under test add folders to it (--packs).
    monkeypatch.setenv(ENV, "")
    reload_packs()
    yield tmp_path
    reload_packs()


def test_new_writes_a_template_that_validates_and_plays_to_match(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenario", "new", "payroll-twice", "--dir", str(tmp_path / "packs")]) == 0
    path = tmp_path / "packs" / "payroll-twice.toml"
    assert path.read_text() == template("payroll-twice")
    assert main(["scenario", "validate", str(path)]) == 0
    assert f"{path}: OK" in capsys.readouterr().out
    assert main(["scenario", "--packs", str(tmp_path / "packs"), "run", "payroll-twice"]) == 0
    assert "MATCH" in capsys.readouterr().out


def test_new_goes_to_the_user_folder_and_never_overwrites(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "new", "mine"]) == 0
    mine = user_packs_dir() / "mine.toml"
    mine.write_text(mine.read_text().replace("Some transfers fail", "My own pack"))
    assert main(["scenario", "new", "mine"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert "My own pack" in mine.read_text()
    reload_packs()
    found = get_scenario("mine")
    assert found is not None and found.title == "My own pack"


@pytest.mark.parametrize("name", ["Payroll", "a b", "../escape", "x" * 64, ""])
def test_new_refuses_a_name_that_cannot_be_a_file(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "new", name]) == 2
    assert "cannot name a pack" in capsys.readouterr().err
    assert not user_packs_dir().exists() or not any(user_packs_dir().iterdir())


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = template("broken")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def _line(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "field", "needle"),
    [
        ("size = 8", "size = 10001", "bulk.size", "size = 10001"),
        ('kind = "transfers"', 'kind = "transfer"', "bulk.kind", 'kind = "transfer"'),
        ("correct = 2", "correct = 9", "questions[0]", "[[questions]]"),
        ("webhook_interval = 4", "webhook_intervall = 4", "execute.webhook_intervall", "webhook_intervall"),
        ("sequence = 3", 'sequence = "three"', "faults.operations[0].sequence", 'sequence = "three"'),
    ],
)
def test_validate_names_the_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, field: str, needle: str
) -> None:
    path = _broken(tmp_path, old, new)
    assert main(["scenario", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:{_line(path, needle)}: {field}" in out, out


def test_validate_reports_toml_syntax_with_its_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "seed = 7", "seed = = 7")
    [problem] = validate_file(path)
    assert problem.line == _line(path, "seed = = 7")
    assert "not valid TOML" in problem.message


def test_validate_includes_the_linter(tmp_path: Path) -> None:
    text = template("guess").replace("correct = 3", "correct = 2").replace("correct = 1", "correct = 2")
    path = tmp_path / "guess.toml"
    path.write_text(text)
    problems = validate_file(path)
    assert any("[position]" in p.message for p in problems), problems


def test_validate_reports_an_unreadable_file(tmp_path: Path) -> None:
    [problem] = validate_file(tmp_path / "missing.toml")
    assert "cannot read it" in problem.message


def test_key_lines_follow_tables_arrays_and_multiline_strings() -> None:
    text = 'a = 1\nb = """\nx = 2\n"""\n[t]\nc.d = 3\n[[q]]\ne = 4\n[[q]]\ne = 5\n'
    lines = key_lines(text)
    assert lines["a"] == 1 and "x" not in lines
    assert lines["t.c.d"] == 6
    assert lines["q[0].e"] == 8 and lines["q[1].e"] == 10
    assert line_of(lines, "q[1].e.deeper") == 10
    assert line_of(lines, "nowhere") is None


def test_schema_describes_the_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"title", "narrative", "bulk", "expect"} <= set(schema["required"])
    assert "name" not in schema["properties"]  # the file's name is the pack's
    assert {"questions", "faults", "expect_actions", "reply"} <= set(schema["properties"])


def test_packs_folders_add_replace_and_leave_out_broken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = len(list_scenarios())
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "extra-one.toml").write_text(template("extra-one"))
    # A trainer's copy of a shipped pack replaces it.
    (folder / "all-succeed.toml").write_text(
        template("all-succeed").replace("Some transfers fail", "All succeed, our way")
    )
    (folder / "broken.toml").write_text(template("broken").replace("size = 8", "size = 0"))
    assert main(["scenario", "--packs", str(folder), "list"]) == 1  # a pack was left out
    captured = capsys.readouterr()
    assert "extra-one" in captured.out and "broken" not in captured.out
    assert "left out, invalid:" in captured.err and "broken.toml" in captured.err
    assert "bulk.size" in captured.err
    assert len(list_scenarios()) == shipped + 1
    found = get_scenario("all-succeed")
    assert found is not None and found.title == "All succeed, our way"
    assert len(pack_problems()) == 1
