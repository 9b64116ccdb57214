"""Keep a long-running server's resident memory flat (glibc only; elsewhere these do nothing).

Each DICOM association and each HTTP request thread may get a malloc arena of its own, and
freed memory inside an arena is not returned to the system: after a burst of concurrent
requests the process keeps its high-water mark. Limiting the arenas and trimming the heap
when the queue runs empty keeps the resident size close to that of a freshly warmed server.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_ARENA_MAX = -8


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:  # musl and others: nothing to tune
        return None


_LIBC = _libc()


def limit_arenas(count: int = 2) -> None:
    if _LIBC is not None:
        _LIBC.mallopt(M_ARENA_MAX, count)


def trim() -> None:
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
