"""One owner at a time for a file or folder: an exclusive advisory lock (``flock``) on a lock file that holds
the owner's pid. Shared by the simulator's database (two simulators on one file) and the classroom's data
folder (two classrooms on one folder), which is why it lives here and not in either: both packages use it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; two owners of one file are then not detected
    fcntl = None  # type: ignore[assignment]


class InUse(OSError):
    """Another process holds the lock; ``str()`` is one line naming what and who."""


def tighten(path: Path) -> None:
    """Make an existing file we own readable by its owner only (never adding a permission)."""
    if not hasattr(os, "getuid"):  # Windows: no POSIX modes to tighten
        return
    try:
        st = os.stat(path)
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700)
    except OSError:
        pass  # gone, or a read-only file system: opening reports what matters


class FileLock:
    """The lock on ``path`` (created 0600). ``owner``: who else would hold it, for the refusal ("another
    simulator", "another bulkdash classroom")."""

    def __init__(self, path: Path, owner: str) -> None:
        self.path = path
        self.owner = owner
        self._fd: int | None = None

    def acquire(self, what: Path) -> None:
        """Take it, or :class:`InUse` naming ``what`` is locked and the holder's pid."""
        if fcntl is None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            tighten(self.path)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            who = f"{self.owner} (pid {holder})" if holder.isdigit() else self.owner
            raise InUse(f"{what} is in use by {who}; stop it or choose another") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # no stale pid for the next reader; the file stays (unlinking would race)
        finally:
            os.close(fd)  # closing the descriptor releases the flock
