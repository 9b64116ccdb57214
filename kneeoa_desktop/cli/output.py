"""What the `kneeoa` command prints: one record per graded knee, and download progress on stderr.

``kneeoa predict`` writes its records as an aligned table (the default), as JSON lines
(``--json``) or as CSV (``--csv FILE``, ``-`` for stdout; a file is written atomically at the
end). Progress appears only on a terminal, so piped output stays clean (the files' progress
bar is ``cli_progress``).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from ..core.verdict.grades import KL_LABELS, grade_title

CSV_COLUMNS = ["file", "knee", "region", *[f"p_{label}" for label in KL_LABELS], "grade",
               "oa_probability", "in_scope", "scope_note", "model", "site_profile"]


def records_for(args) -> "TableRecords | JsonRecords | CsvRecords":
    """The writer ``kneeoa predict``'s options ask for; a table or CSV prints its header now."""
    if args.json:
        return JsonRecords()
    if args.csv:
        return CsvRecords(args.csv)
    return TableRecords()


class TableRecords:
    """One aligned line per knee: file, side letter, grade (or "out of scope"), probabilities."""

    def __init__(self):
        print(f"{'file':<40} {'knee':<5} {'grade':<15} " + " ".join(f"{label:>6}" for label in KL_LABELS)
              + "     OA  region")

    def add(self, path: Path, knee) -> None:
        prediction = knee.prediction
        name = str(path) if len(str(path)) <= 40 else "…" + str(path)[-39:]
        verdict = grade_title(prediction.grade) if knee.in_scope else "out of scope"
        print(f"{name:<40} {knee.side_letter or '-':<5} {verdict:<15} "
              + " ".join(f"{p:6.3f}" for p in prediction.probabilities)
              + f" {prediction.oa_probability:6.3f}  {_region(knee)}"
              + (f"  ({knee.scope_note})" if knee.scope_note else "")
              + (f"  [{prediction.site}]" if prediction.site else ""), flush=True)

    def finish(self) -> None:
        pass


class JsonRecords:
    """One JSON object per knee and line: ``KneeResult.as_dict()``."""

    def add(self, path: Path, knee) -> None:
        print(json.dumps(knee.as_dict(), ensure_ascii=False), flush=True)

    def finish(self) -> None:
        pass


class CsvRecords:
    """CSV rows to stdout as they come, or gathered and written to a file atomically at the end."""

    def __init__(self, target: str):
        self.target = target
        self.handle = sys.stdout if target == "-" else io.StringIO()
        self.writer = csv.writer(self.handle)
        self.writer.writerow(CSV_COLUMNS)

    def add(self, path: Path, knee) -> None:
        prediction = knee.prediction
        self.writer.writerow([str(path), knee.side or "", _region(knee),
                              *[f"{p:.6f}" for p in prediction.probabilities], prediction.grade,
                              f"{prediction.oa_probability:.6f}", str(knee.in_scope).lower(),
                              knee.scope_note or "", prediction.model, prediction.site])

    def finish(self) -> None:
        """Write the file (raises ``ExportError`` with one sentence when it cannot be written)."""
        if self.handle is not sys.stdout:
            from ..core.atomic import write_text_atomic

            write_text_atomic(self.handle.getvalue(), self.target)


def _region(knee) -> str:
    return " ".join(str(v) for v in knee.region)


class ByteProgress:
    """Download progress on stderr, only on a terminal."""

    def __init__(self):
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def update(self, received: int, total: int | None) -> None:
        if not self.enabled:
            return
        done = f"{received / 1e6:.1f} MB"
        text = f"{done} of {total / 1e6:.1f} MB" if total else done
        print(f"\rdownloading… {text}", end="", file=sys.stderr, flush=True)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            print(file=sys.stderr)
            self.shown = False
