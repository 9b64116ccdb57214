"""`kneeoa predict FILE|FOLDER …`: grade radiographs and print one record per knee.

Each film goes through ``core.pipeline``; with ``--overlay-dir`` its annotated PNG is drawn and
written on other threads while the next film is graded. One film's failure is reported in one
line and the others go on; the exit code says whether any failed.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..core.errors import KneeOAError
from . import common
from .output import records_for
from .progress import Progress

log = logging.getLogger("kneeoa.cli")
#: Threads drawing and writing --overlay-dir PNGs while the next films are graded.
_WRITERS = 2


def run(args) -> int:
    from ..core.film.discovery import expand_paths

    files, empty_folders = expand_paths(args.paths)
    for folder in empty_folders:
        print(f"kneeoa: {folder}: This folder contains no supported images.", file=sys.stderr)
    if not files:
        return common.EXIT_FAILED
    overlay_dir = Path(args.overlay_dir) if args.overlay_dir else None
    if overlay_dir is not None:
        try:
            overlay_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"kneeoa: {overlay_dir}: cannot create the folder ({exc.strerror})", file=sys.stderr)
            return common.EXIT_FAILED
    from ..core.pipeline import GradingPipeline

    pipeline = GradingPipeline(common.predictor_for(args))
    records = records_for(args)
    failures = len(empty_folders)
    progress = Progress(len(files), "grading", json_output=args.json)
    records_on_screen = sys.stdout.isatty()  # the bar steps aside for each record on the terminal
    used_names: set[str] = set()
    # The annotated PNGs are drawn and written on other threads while the next film is graded
    # (drawing, encoding and the network all release the GIL). Drawing and encoding one PNG
    # takes longer than grading a crop, so two films may be in the writers' hands at once. A
    # film counts, and its records are printed, only once its PNG is on disk, in the order the
    # files were given.
    writer = ThreadPoolExecutor(max_workers=_WRITERS) if overlay_dir is not None else None
    pending: deque = deque()

    def failed(index, path, exc) -> int:
        progress.clear()  # the message goes on its own line, then the bar goes on
        common.fail(args, path, exc)
        progress.update(index + 1)
        return 1

    def finish(index, path, result, written) -> int:
        try:
            if written is not None:
                written.result()
        except Exception as exc:  # user errors, and bugs too, must not stop the other files
            return failed(index, path, exc)
        if records_on_screen:
            progress.clear()
        for knee in result.knees:
            prediction = knee.prediction
            prediction.source_name = str(path)
            log.debug("%s %s: KL%d, p=%s, in scope %s, %.0f ms", path, knee.side, prediction.grade,
                      " ".join(f"{p:.3f}" for p in prediction.probabilities), knee.in_scope,
                      prediction.elapsed_ms)
            records.add(path, knee)
        progress.update(index + 1)
        return 0

    try:
        for index, path in enumerate(files):
            try:
                result = pipeline(path)
            except Exception as exc:  # user errors, and bugs too, must not stop the other files
                result, error = None, exc
            if result is None:
                while pending:  # what came before is reported first
                    failures += finish(*pending.popleft())
                failures += failed(index, path, error)
                continue
            if writer is not None:
                name = _overlay_name(path, used_names)
                written = writer.submit(_write_overlay, result, path, overlay_dir / name, args)
            else:
                written = None
            pending.append((index, path, result, written))
            while len(pending) > (_WRITERS if writer is not None else 0):
                failures += finish(*pending.popleft())
        while pending:
            failures += finish(*pending.popleft())
    finally:
        progress.close()
        if writer is not None:
            writer.shutdown(wait=True)
    try:
        records.finish()
    except KneeOAError as exc:
        common.fail(args, args.csv, exc)
        return common.EXIT_FAILED
    return common.EXIT_FAILED if failures else common.EXIT_OK


def _overlay_name(path: Path, used_names: set[str]) -> str:
    """The annotated PNG's name for ``path``, unique in this run (chosen on the main thread, in
    the order the files were given, so that two writers never pick the same name)."""
    from ..core.outputs.export import default_export_name

    name = default_export_name(path.name)
    stem, n = name[:-4], 2
    while name in used_names:  # same file name from two folders: keep both
        name, n = f"{stem}-{n}.png", n + 1
    used_names.add(name)
    return name


def _write_overlay(result, path: Path, target: Path, args) -> None:
    from ..core.outputs.export import export_result

    export_result(result, target, source_path=path, brightness=args.brightness,
                  source_name=path.name, patient=result.image.patient if args.include_patient else None)
