"""Writing files so that a reader sees the old version or the new one, never half of one.

Every output is first written to a temporary file beside its target (the same
file system, so the final rename is atomic) and renamed over the target only
when the whole build has succeeded. A failed or interrupted build leaves the
previous outputs as they were, and no temporary file behind; a killed one may
leave temporary files, which the next build removes (``sweep_stale``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Temporary files are named after the process that made them, so that one left by a killed
# build can be told from one that a build running beside this one is still writing.
_PREFIX = ".studycards-"


class BuildError(Exception):
    """The environment stopped the build (disk, permissions); the message says how."""


class Staging:
    """Temporary files for a set of targets, renamed into place together by ``commit``."""

    def __init__(self) -> None:
        # rank, temporary file, target, and the bytes the target must still hold (or None)
        self._staged: list[tuple[int, Path, Path, bytes | None]] = []
        self._scratch: list[Path] = []
        self._created: list[Path] = []  # folders made for the outputs, removed again if left empty
        self._swept: set[Path] = set()

    def stage(self, target: Path, rank: int = 0, expected: bytes | None = None) -> Path:
        """A new temporary file that ``commit`` will rename to ``target``, lower ranks first.

        With ``expected``, ``target`` is replaced only while it still holds those bytes: a
        file someone else changed meanwhile fails the commit, unless it already holds what
        was staged.
        """
        path = self.scratch(target.parent, target.suffix)
        self._scratch.remove(path)
        self._staged.append((rank, path, target, expected))
        return path

    def scratch(self, folder: Path, suffix: str) -> Path:
        """A temporary working file in ``folder``, removed when the build ends."""
        try:
            missing = [parent for parent in (folder, *folder.parents) if not parent.exists()]
            folder.mkdir(parents=True, exist_ok=True)
            self._created += missing
            if folder not in self._swept:
                self._swept.add(folder)
                sweep_stale(folder)
            handle, name = tempfile.mkstemp(prefix=f"{_PREFIX}{os.getpid()}-", suffix=suffix, dir=folder)
        except (FileExistsError, NotADirectoryError):
            # A file stands where a folder of the path must be ("--out notes.txt/deck.apkg").
            blocker = next((parent for parent in (folder, *folder.parents)
                            if (parent.exists() or parent.is_symlink()) and not parent.is_dir()), folder)
            raise BuildError(f"cannot write to {folder}: {blocker} is not a folder") from None
        except OSError as error:
            raise BuildError(f"cannot write to {folder}: {error.strerror}") from None
        os.close(handle)
        self._scratch.append(Path(name))
        return Path(name)

    def unstage(self, path: Path) -> None:
        """Take back a file from ``stage``: it will not land, and goes with the scratch files."""
        self._staged = [staged for staged in self._staged if staged[1] != path]
        self._scratch.append(path)

    def commit(self) -> None:
        """Rename every staged file over its target: by rank, then in the order staged.

        If the commit stops partway (a target that turned out to be a folder, a file
        changed meanwhile, even Ctrl-C), the targets already replaced get their old
        files back, so a failed build still writes nothing. A build killed halfway
        through leaves some targets renamed and some not; the ranks decide which
        combinations can be left (see ``assemble``).
        """
        self._staged.sort(key=lambda staged: staged[0])  # stable: same rank, order staged
        landed: list[tuple[Path, Path | None]] = []  # each target replaced, and its old file
        try:
            while self._staged:
                _, path, target, expected = self._staged[0]
                if expected is not None and (current := _contents(target)) != expected:
                    if current != _contents(path):
                        raise BuildError(f"{target} changed during the build, so nothing was written; "
                                         "build again")
                    with contextlib.suppress(OSError):  # a leftover is removed by discard
                        path.unlink()  # a build running beside this one wrote these bytes first
                else:
                    with ctrl_c_held():  # so that a target replaced is always one to put back
                        old = self._keep_old(target)
                        replace_file(path, target)
                        landed.append((target, old))
                self._staged.pop(0)  # only now: a file that failed to land is still discarded
        except BaseException as error:
            stranded = _put_back(landed)
            for _, old in stranded:
                self._scratch.remove(old)  # the only copy left: discard must not remove it
            if stranded and isinstance(error, BuildError):
                raise BuildError(f"{error}; and the earlier {stranded[0][0]} could not be put back: "
                                 f"it is {stranded[0][1]}, until the next build") from None
            raise
        self._created.clear()  # they hold the outputs now
        self.discard()

    def _keep_old(self, target: Path) -> Path | None:
        """A second name for the file at ``target``, to put back if the commit fails; None if there is none.

        A hard link costs nothing however large the file; where the file system has
        none, a copy. It is a scratch file: removed by ``discard``, or swept after a kill.
        """
        if not target.is_file():
            return None
        old = self.scratch(target.parent, target.suffix)
        try:
            old.unlink()
            try:
                os.link(target, old)
            except OSError:
                shutil.copy2(target, old)
        except OSError as error:
            raise BuildError(f"cannot write {target}: {error.strerror}") from None
        return old

    def discard(self) -> None:
        for _, path, _, _ in self._staged:
            path.unlink(missing_ok=True)
        self._staged.clear()
        for path in self._scratch:
            path.unlink(missing_ok=True)
        self._scratch.clear()
        for folder in sorted(self._created, key=lambda path: len(path.parts), reverse=True):
            with contextlib.suppress(OSError):  # not empty: something else is in it
                folder.rmdir()
        self._created.clear()


def _contents(file: Path) -> bytes | None:
    """A file's bytes; ``None`` when there is no such file."""
    try:
        return file.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise BuildError(f"cannot read {file}: {error.strerror}") from None


def _put_back(landed: list[tuple[Path, Path | None]]) -> list[tuple[Path, Path]]:
    """Undo the renames of a commit that stopped; the targets whose old file stays where it was kept."""
    stranded = []
    for target, old in reversed(landed):
        try:
            if old is None:
                target.unlink()
            else:
                os.replace(old, target)
        except OSError:
            if old is not None:
                stranded.append((target, old))
    return stranded


def sweep_stale(folder: Path) -> None:
    """Remove temporary files left in ``folder`` by builds that were killed."""
    for path in folder.glob(f"{_PREFIX}*"):
        pid = path.name[len(_PREFIX):].split("-", 1)[0]
        if pid.isascii() and pid.isdigit() and not _running(int(pid)):
            with contextlib.suppress(OSError):
                path.unlink()


def _running(pid: int) -> bool:
    if pid == 0:  # no build's: os.kill(0, ...) would signal this build's own process group
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # a number too large for a process id: none
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def replace_file(source: Path, target: Path) -> None:
    try:
        # Keep the mode of a file being replaced (a YAML file the user owns).
        if target.exists():
            os.chmod(source, target.stat().st_mode & 0o7777)
        else:
            os.chmod(source, 0o644)
        os.replace(source, target)
    except OSError as error:
        raise BuildError(f"cannot write {target}: {error.strerror}") from None


@contextlib.contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Ctrl-C waits until the end of the block, then stops the build as usual.

    A worker process started in the block begins with Ctrl-C held too, until it has
    it ignored (``pipeline._start_worker``): in between, it would print a traceback.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no such signals, and no forked workers
        yield
        return
    try:  # (blocked inside the try: a Ctrl-C raised as it is blocked still unblocks it)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
