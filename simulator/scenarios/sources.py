"""Where scenario packs come from: the shipped ones, the trainer's own, and folders named at start.

In that order, a later folder's pack replacing an earlier one of the same name (a trainer may copy a shipped
pack into their folder and change it):

1. the packs shipped in ``simulator/scenarios/packs/`` (package data);
2. the user's pack folder, ``<user data dir>/bulkdash/packs`` (platformdirs; :func:`user_packs_dir`);
3. every folder in ``$BULKDASH_PACKS`` (``os.pathsep``-separated), which ``--packs DIR`` sets — an environment
   variable, so a simulator the dashboard starts in a process of its own reads the same folders.

A folder that does not exist is skipped (the user folder usually does not); one that cannot be read is an
error naming it, never a silent omission.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

PACKAGE = "simulator.scenarios.packs"
ENV = "BULKDASH_PACKS"


@dataclass(frozen=True, slots=True)
class PackFile:
    """One pack's text and where it came from (``source`` names it in errors)."""

    name: str
    source: str
    text: str
    origin: str  # "shipped", "user" or the folder given


def user_packs_dir() -> Path:
    return platformdirs.user_data_path("bulkdash", appauthor=False) / "packs"


def extra_dirs() -> list[Path]:
    return [Path(part).expanduser() for part in os.environ.get(ENV, "").split(os.pathsep) if part.strip()]


def use_pack_dirs(dirs: Iterable[Path]) -> None:
    """Add ``dirs`` (``--packs``) to this process's and its children's pack folders (the loaded packs are
    cached per set of folders, so the next read sees them)."""
    added = [str(Path(d).expanduser().resolve()) for d in dirs]
    if not added:
        return
    current = [p for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]
    os.environ[ENV] = os.pathsep.join([*current, *(d for d in added if d not in current)])


def pack_dir_problem(folder: Path) -> str | None:
    """Why ``folder`` (``--packs``) cannot be a pack folder, or None. A missing folder, or a file, was taken
    without a word, and the class then lacked its packs (a user's trial)."""
    path = Path(folder).expanduser()
    if not path.exists():
        return f"--packs {folder}: no such folder"
    if not path.is_dir():
        return f"--packs {folder}: not a folder (give the folder that holds the .toml packs)"
    return None


def folders_key() -> tuple[str, ...]:
    """What the set of pack folders is now: the loaded packs are cached under it."""
    return (str(user_packs_dir()), *map(str, extra_dirs()))


def _folder(folder: Path, origin: str) -> Iterator[PackFile]:
    if not folder.is_dir():
        return
    try:
        entries = sorted(folder.glob("*.toml"))
    except OSError as exc:
        raise OSError(f"cannot read the pack folder {folder}: {exc.strerror or exc}") from None
    for entry in entries:
        try:
            text = entry.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise OSError(f"cannot read the pack {entry}: {exc}") from None
        yield PackFile(entry.stem, str(entry), text, origin)


def pack_files() -> list[PackFile]:
    """Every pack's file, shipped first; later folders replace same-named packs."""
    found: dict[str, PackFile] = {}
    for entry in sorted(resources.files(PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            name = entry.name.removesuffix(".toml")
            found[name] = PackFile(name, f"packs/{entry.name}", entry.read_text(encoding="utf-8"), "shipped")
    for pack in _folder(user_packs_dir(), "user"):
        found[pack.name] = pack
    for folder in extra_dirs():
        for pack in _folder(folder, str(folder)):
            found[pack.name] = pack
    return list(found.values())


__all__ = ["ENV", "PackFile", "extra_dirs", "folders_key", "pack_files", "use_pack_dirs", "user_packs_dir"]
