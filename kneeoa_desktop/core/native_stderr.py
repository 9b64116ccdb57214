"""Keep native libraries' chatter off the user's stderr: point file descriptor 2 elsewhere.

C and C++ code writes straight to descriptor 2, beneath Python's ``sys.stderr`` and beneath the
libraries' own log levels: libpng and libjpeg complain about a damaged file ("libpng error: IDAT:
CRC error", "Corrupt JPEG data: …"), TensorFlow's absl, XLA and CUDA probing report while they
start. A command-line user must see only our one-line messages. The cost: another thread's
stderr output is lost (or captured) for the duration (the program logs to a file, not stderr).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from typing import Iterator

# One redirection at a time: two interleaved ones would restore each other's descriptors.
_LOCK = threading.RLock()


class Captured:
    """What the native code wrote while redirected (``capture=True``), once the block has ended."""

    text = ""


@contextlib.contextmanager
def redirect_native_stderr(capture: bool = False) -> Iterator[Captured]:
    """Point descriptor 2 at the null device for the block, or with ``capture`` at a temporary
    file whose text is in the yielded ``Captured`` afterwards. Without a descriptor 2 (a windowed
    program) the block simply runs."""
    captured = Captured()
    with _LOCK:
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):  # no usable sys.stderr (a windowed program)
            pass
        try:
            saved = os.dup(2)
        except OSError:  # no descriptor 2 at all: nothing to redirect
            saved = None
        if saved is None:
            yield captured
            return
        with contextlib.ExitStack() as stack:
            if capture:
                sink = stack.enter_context(tempfile.TemporaryFile())
                os.dup2(sink.fileno(), 2)
            else:
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 2)
                os.close(null)
            try:
                yield captured
            finally:
                try:
                    sys.stderr.flush()
                except (AttributeError, OSError, ValueError):
                    pass
                os.dup2(saved, 2)
                os.close(saved)
                if capture:
                    sink.seek(0)
                    captured.text = sink.read().decode("utf-8", "replace")
