"""`kneeoa evaluate DATA_DIR`: grade a folder laid out as 0/ … 4/ and report the figures.

Prints the report (or ``--json``), writes the confusion-matrix plot and, with ``--html``, a
self-contained site report; the figures are computed by ``training.evaluate``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from . import common
from .progress import Progress


def run(args) -> int:
    from ..core.outputs.export import write_png_atomic
    from ..training.evaluate import confusion_matrix_image, evaluate_folder, format_report

    data_dir = Path(args.data_dir)
    if not data_dir.is_dir():
        print(f"kneeoa: {data_dir}: not a folder", file=sys.stderr)
        return common.EXIT_FAILED
    predictor = common.predictor_for(args)
    progress = Progress(0, "evaluating", json_output=args.json)  # sized by the first report
    start = time.perf_counter()

    def on_error(path, exc):
        progress.clear()
        common.fail(args, path, exc)

    details: dict = {}
    try:
        report = evaluate_folder(data_dir, predictor, on_progress=progress.update, on_error=on_error, details=details)
    except FileNotFoundError as exc:
        print(f"kneeoa: {exc}", file=sys.stderr)
        return common.EXIT_FAILED
    finally:
        progress.close()
    report["seconds"] = round(time.perf_counter() - start, 1)
    plot = write_png_atomic(confusion_matrix_image(report), args.plot)
    report["plot"] = str(plot)
    if args.html:
        from ..training.site_report import write_html_report

        before = None
        if "before_profile" in report:  # the model as it is, beside the site's profile
            before = (report["before_profile"], {**details, "probabilities": details["raw"],
                                                 "predicted": details["raw"].argmax(1)})
        report["html"] = str(write_html_report(report, details, args.html, before))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
        print(f"\nconfusion matrix plot: {plot}")
        if report.get("html"):
            print(f"site report: {report['html']}")
    return common.EXIT_FAILED if report.get("failed_files") else common.EXIT_OK
