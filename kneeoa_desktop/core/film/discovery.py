"""Find the radiographs named on a command line: files as given, folders walked by content."""

from __future__ import annotations

import os
from pathlib import Path

from .formats import sniff_format


def looks_like_image(path: Path) -> bool:
    """True if the file's first bytes are a format we read (extension is irrelevant)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    return sniff_format(head) is not None


def expand_paths(paths: list[str | os.PathLike]) -> tuple[list[Path], list[Path]]:
    """Return (files, folders without images).

    Files are kept as given (even unreadable ones, so they can be reported); folders are
    walked recursively, in sorted order, for image files; hidden entries are skipped."""
    found: list[Path] = []
    empty: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            before = len(found)
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    candidate = Path(root) / name
                    if not name.startswith(".") and looks_like_image(candidate):
                        found.append(candidate)
            if len(found) == before:
                empty.append(path)
        else:
            found.append(path)
    return found, empty
