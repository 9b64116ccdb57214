"""Write a file so that a reader sees the old one or the whole new one, never half of it.

A temporary file in the target's folder is written, flushed to disk and renamed over the target.
Everything the program writes goes through here: the annotated PNG (``export``), the CLI's CSV,
the model store's ``active.json``, ``manifest.json`` (``manifest``), the scope statistics and
training's model and cache files. A leaf module: the standard library and the error types only.
Failures become an ``ExportError`` with one sentence (permission, full disk, missing folder).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import ExportError
from .messages import QT_TRANSLATE_NOOP

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def write_bytes_atomic(data: bytes, target: str | os.PathLike, *,
                       protect: tuple[str | os.PathLike, ...] = ()) -> Path:
    """Write ``data`` to ``target`` atomically; never onto a file in ``protect`` (the source)."""
    with atomic_path(target, protect=protect) as (tmp, handle):
        handle.write(data)
    return Path(target)


def write_text_atomic(text: str, target: str | os.PathLike) -> Path:
    return write_bytes_atomic(text.encode("utf-8"), Path(target))


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, suffix: str = "",
                protect: tuple[str | os.PathLike, ...] = ()) -> Iterator[tuple[Path, object]]:
    """Yield ``(temporary path, open binary handle)`` beside ``target``; when the block ends
    without an error, the file is flushed to disk and renamed over ``target``, else removed.

    Write through the handle, or (a library that wants a file name: Keras, NumPy) to the path
    after closing the handle; ``suffix`` ends the temporary name (".keras", ".npz").
    """
    target = Path(target)
    if any(_same_file(path, target) for path in protect):
        raise ExportError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The export would overwrite the source radiograph; choose another name."))
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(QT_TRANSLATE_NOOP("CoreMessages", "The folder {0} does not exist."), folder)
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{suffix}", dir=folder)
        try:  # mkstemp makes 0600; what we write is an ordinary file
            os.chmod(tmp_name, 0o666 & ~_UMASK)
        except OSError:  # vfat/exFAT and some network mounts refuse chmod but accept the file
            pass
        with os.fdopen(fd, "wb") as handle:
            yield Path(tmp_name), handle
        with open(tmp_name, "rb+") as handle:  # also what a library wrote by name
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        raise ExportError(*_describe_os_error(exc, folder)) from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def _same_file(a: str | os.PathLike, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # also catches hard links and case-insensitive names
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == b.resolve()


def _describe_os_error(exc: OSError, folder: Path) -> tuple:
    """(template, values) of the sentence for a failed write."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return QT_TRANSLATE_NOOP("CoreMessages", "Cannot write into {0}: permission denied or read-only."), folder
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return QT_TRANSLATE_NOOP("CoreMessages", "The disk holding {0} is full; nothing was written."), folder
    return QT_TRANSLATE_NOOP("CoreMessages", "The export could not be written ({0})."), exc.strerror or exc
