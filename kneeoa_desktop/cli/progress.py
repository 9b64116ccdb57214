"""A one-line progress bar on stderr for the long CLI jobs (predict over folders, evaluate, calibrate).

``label  [#####.....]  123/826  14.2 files/s  0:47 left``, redrawn in place with ``\\r`` at most
``REDRAWS_PER_SECOND`` times a second and never wider than the terminal. It is drawn only when
its stream is a terminal, the job has at least ``PROGRESS_MIN_FILES`` files, ``--json`` was not
given, ``TERM`` is not ``dumb`` and ``KNEEOA_NO_PROGRESS`` is unset (or ``0``): piped output and
JSON get nothing extra. Anything else written to the terminal while the bar is up goes through
``write()`` (or follows ``clear()``), so that messages never land on the bar's line.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

#: Show a progress bar on a terminal from this many files on.
PROGRESS_MIN_FILES = 5
REDRAWS_PER_SECOND = 10
_BAR_WIDTH = 30


def progress_wanted(stream, json_output: bool = False) -> bool:
    """Whether a bar may be drawn on ``stream``: a terminal, no --json, and not turned off."""
    if json_output or os.environ.get("KNEEOA_NO_PROGRESS", "") not in ("", "0"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """Counts finished items and shows the count, rate and time left; a context manager.

    ``total`` may grow later (``update(done, total)``). ``enabled=None`` decides by
    ``progress_wanted`` and ``PROGRESS_MIN_FILES``; True or False forces it.
    """

    def __init__(self, total: int, label: str = "", stream=None, enabled: bool | None = None,
                 json_output: bool = False, unit: str = "files", clock=time.monotonic):
        self.total, self.label, self.unit, self.done = total, label, unit, 0
        self.stream = sys.stderr if stream is None else stream
        self._forced = enabled
        self._wanted = progress_wanted(self.stream, json_output) if enabled is None else enabled
        self._clock = clock
        self._start = clock()
        self._last_draw = None  # when the bar was last drawn; None while it is not on screen
        self._shown = 0  # characters of the bar now on screen

    @property
    def enabled(self) -> bool:
        if self._forced is not None:
            return self._forced
        return self._wanted and self.total >= PROGRESS_MIN_FILES

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` items are finished (of ``total``, when it is given); redraw if it is time."""
        self.done = done
        if total is not None:
            self.total = total
        if not self.enabled:
            return
        now = self._clock()
        if (self._last_draw is None or done >= self.total
                or now - self._last_draw >= 1 / REDRAWS_PER_SECOND):
            self._draw(now)

    def clear(self) -> None:
        """Take the bar off the screen (the next ``update`` draws it again at once)."""
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
        self._shown, self._last_draw = 0, None

    def write(self, text: str) -> None:
        """Print a line to the bar's stream without garbling it; the bar comes back on the next update."""
        self.clear()
        self.stream.write(text if text.endswith("\n") else text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Leave the line empty for whatever is printed next."""
        self.clear()

    def line(self, now: float | None = None, columns: int | None = None) -> str:
        """The bar's text, at most ``columns - 1`` characters (the terminal's width by default)."""
        now = self._clock() if now is None else now
        columns = self._columns() if columns is None else columns
        total = max(self.total, self.done, 1)
        elapsed = max(now - self._start, 1e-9)
        parts = [f"{self.done}/{self.total}"]
        if self.done:
            rate = self.done / elapsed
            parts.append(f"{rate:.1f} {self.unit}/s")
            parts.append(f"{_clock_time((total - self.done) / rate)} left")
        tail = "  ".join(parts)
        head = f"{self.label}  " if self.label else ""
        room = columns - 1 - len(head) - len(tail) - 4  # 4: the brackets and two spaces
        width = min(_BAR_WIDTH, room)
        if width >= 5:
            filled = width * min(self.done, total) // total
            text = f"{head}[{'#' * filled}{'.' * (width - filled)}]  {tail}"
        else:
            text = f"{head}{tail}"
        return text[:max(columns - 1, 0)]

    def _draw(self, now: float) -> None:
        if self.stream is sys.stderr:  # what is waiting for stdout must not land on the bar's line
            sys.stdout.flush()
        text = self.line(now)
        self.stream.write("\r" + text + " " * max(self._shown - len(text), 0))
        self.stream.flush()
        self._shown, self._last_draw = max(len(text), self._shown), now

    def _columns(self) -> int:
        if os.environ.get("COLUMNS"):
            return shutil.get_terminal_size().columns
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            return shutil.get_terminal_size().columns


def _clock_time(seconds: float) -> str:
    """``0:47``, ``12:05`` or ``1:02:03``."""
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
