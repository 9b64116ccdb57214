"""The `kneeoa` command: grade radiographs, evaluate, train, describe and download the model.

A thin front door onto ``kneeoa_desktop.core``: argument parsing, output formatting and exit
codes live here; no image or model logic does. Errors a user can cause print one line
(``kneeoa: FILE: reason``) and never a traceback unless ``--debug`` is given; the details
and tracebacks go to the log file (``kneeoa info`` says where).
Exit codes: 0 all files succeeded, 1 any file or the model failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path

from . import __version__
from .core.errors import KneeOAError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("kneeoa.cli")
#: Show a progress bar on a terminal from this many files on.
PROGRESS_MIN_FILES = 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kneeoa",
        description="Kellgren–Lawrence grading of knee radiographs (decision support only — not a diagnosis).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--weights", metavar="DIR",
                        help="folder holding manifest.json and the model (default: the model in use: "
                             "a downloaded one if installed, else the bundled one)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("predict", help="grade radiographs (files or folders)",
                       description="Grade radiographs. PATH is an image file (PNG, JPEG, BMP, TIFF, "
                                   "DICOM; recognised by content) or a folder, walked for images. Each knee "
                                   "joint found on a film is graded on its own (a bilateral PA film gives two "
                                   "records, the patient's right knee first); a single-joint crop is graded "
                                   "whole. A region the model cannot grade (lateral view, metal implant, not a "
                                   "knee radiograph) is reported with in_scope false and a scope note.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help="print one JSON object per graded knee (JSON lines): file, knee (right/left/null), "
                          "region [x, y, w, h], in_scope, scope_note, probabilities, grade, …")
    fmt.add_argument("--csv", metavar="FILE", help="write the results as CSV to FILE ('-' for stdout)")
    p.add_argument("--overlay-dir", metavar="DIR",
                   help="write one annotated PNG per image into DIR (every knee outlined and graded)")
    p.add_argument("--brightness", type=_brightness, default=1.0, metavar="B",
                   help="evidence overlay brightness for --overlay-dir, 0 (off) to 4 (default 1)")
    p.add_argument("--include-patient", action="store_true",
                   help="print DICOM patient name and ID on the annotated PNGs (off by default)")

    sub.add_parser("info", help="show the model in use and its origin, the device, versions and the log file")

    d = sub.add_parser(
        "download-weights", help="download a model (sha256-pinned) and make it the model in use",
        description="Download a model with gdown into the user data folder, verify its SHA-256, check "
                    "that it loads, and only then make it the model in use. Without --url/--sha256, "
                    "fetch the source named in the bundled manifest. A failed, cancelled or mismatched "
                    "download never replaces the working model; run the command again to resume.")
    d.add_argument("--url", metavar="URL",
                   help="an https URL or a Google Drive file id/link (default: the bundled manifest's)")
    d.add_argument("--sha256", metavar="HEX", help="the file's SHA-256 (required with --url)")
    d.add_argument("--model-version", metavar="VERSION",
                   help="version to record for a model other than the bundled one")
    d.add_argument("--timeout", type=_positive_float, default=30.0, metavar="SECONDS",
                   help="give up on a server silent for this long (default %(default)s)")
    d.add_argument("--retries", type=_non_negative_int, default=3, metavar="N",
                   help="further attempts after a dropped connection, each resuming (default %(default)s)")

    st = sub.add_parser("self-test", help="check that this installation can grade (the same check as KneeOA --self-test)",
                        description="Load the model, grade the synthetic radiograph shipped with the program, "
                                    "compose an overlay and render an export; print one line (exit 0 passed, 1 failed).")
    st.add_argument("image", nargs="?", metavar="IMAGE", help="grade this radiograph instead of the built-in sample")

    sub.add_parser("restore-model", help="use the model bundled with the program again",
                   description="Switch back to the bundled model. Downloaded models stay on disk; "
                               "nothing is overwritten.")

    e = sub.add_parser("evaluate", help="measure accuracy on a folder with 0/ … 4/ subfolders",
                       description="Grade every image in DATA_DIR/0 … 4 and report accuracy, quadratic-"
                                   "weighted kappa, MAE, per-grade precision/recall, the confusion "
                                   "matrix and the OA (KL ≥ 2) AUC.")
    e.add_argument("data_dir", metavar="DATA_DIR")
    e.add_argument("--json", action="store_true", help="print the report as one JSON object")
    e.add_argument("--plot", metavar="FILE", default="kneeoa-confusion-matrix.png",
                   help="where to write the confusion-matrix PNG (default: %(default)s)")

    t = sub.add_parser("train", help="train a model on a kneeKL224-shaped folder and write it with its card",
                       description="Train the KL-grade network on DATA/train (images in 0/ … 4/), select "
                                   "the epoch with the best validation kappa on DATA/val, and write the "
                                   "model, manifest.json, figures and MODEL_CARD.md into --out. Resumes "
                                   "from --run-dir's last checkpoint if one exists.")
    defaults = _train_defaults()
    t.add_argument("--data", metavar="DIR", default=defaults.data_dir,
                   help="folder with train/ and val/ (default: %(default)s)")
    t.add_argument("--out", metavar="DIR", default="kneeoa-model",
                   help="where the finished model goes (default: %(default)s; the app's own is weights/)")
    t.add_argument("--run-dir", metavar="DIR", help="checkpoints and logs (default: runs/NAME-VERSION)")
    t.add_argument("--epochs", type=_positive_int, default=defaults.epochs)
    t.add_argument("--batch-size", type=_positive_int, default=defaults.batch_size)
    t.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    t.add_argument("--ordinal-weight", type=float, default=defaults.ordinal_weight,
                   help="weight of the squared-EMD ordinal loss term (0: plain cross-entropy)")
    t.add_argument("--class-weight-power", type=float, default=defaults.class_weight_power,
                   help="class weights = (inverse frequency)^POWER (0: none, default %(default)s)")
    t.add_argument("--seed", type=int, default=defaults.seed)
    t.add_argument("--name", default=defaults.model_name)
    t.add_argument("--version", dest="model_version", default=defaults.model_version)
    t.add_argument("--cache-dir", metavar="DIR", help="preprocessed-image cache (default: the user cache folder)")
    t.add_argument("--limit-per-grade", type=_positive_int, help="use only N images per grade (smoke tests)")
    t.add_argument("--steps-per-epoch", type=_positive_int, help="override the steps per epoch (smoke tests)")
    t.add_argument("--architecture", choices=("lite0", "cnn"), default=defaults.architecture,
                   help="lite0: EfficientNet-Lite0 from ImageNet weights (the shipped model); cnn: a small "
                        "network from scratch, for quick runs (default: %(default)s)")
    t.add_argument("--freeze-through", type=int, default=defaults.freeze_through, metavar="N",
                   help="lite0: keep the stem and blocks 0…N at their ImageNet weights "
                        "(-1: train everything; default: %(default)s)")
    t.add_argument("--xla", action="store_true",
                   help="compile with XLA (about twice as fast for cnn; much slower for lite0 on CPU)")
    return parser


def _train_defaults():
    from .training.config import TrainConfig

    return TrainConfig()


def _number(text: str, kind: type):
    """``text`` as an int or a float, or argparse's usage error naming what was expected."""
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def _positive_float(text: str) -> float:
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _non_negative_int(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _brightness(text: str) -> float:
    value = _number(text, float)
    if not 0.0 <= value <= 4.0:
        raise argparse.ArgumentTypeError("brightness must be between 0 and 4")
    return value


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # A console that cannot show a file name must not turn it into a crash.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    from .core.logs import setup_logging

    setup_logging("cli")
    log.info("kneeoa %s %s", args.command, __version__)
    try:
        return {"predict": cmd_predict, "info": cmd_info, "evaluate": cmd_evaluate,
                "train": cmd_train, "download-weights": cmd_download_weights,
                "restore-model": cmd_restore_model, "self-test": cmd_self_test}[args.command](args)
    except KneeOAError as exc:
        _fail(args, None, exc)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("kneeoa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `kneeoa predict … | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED


def _fail(args, file, exc: BaseException) -> None:
    where = f"{file}: " if file is not None else ""
    if isinstance(exc, KneeOAError):
        message = str(exc)
        # The sentence is the whole story for the user; the cause (a library's error) helps us.
        log.info("%s%s", where, message, exc_info=exc if exc.__cause__ is not None else None)
    else:  # a bug: the user gets one line, the log the traceback
        message = f"unexpected error ({type(exc).__name__}: {exc})"
        log.error("%s%s", where, message, exc_info=exc)
    print(f"kneeoa: {where}{message}", file=sys.stderr)
    if args.debug:
        traceback.print_exception(exc, file=sys.stderr)


def _predictor(args):
    """The model given with --weights, else the model in use (downloaded, else bundled)."""
    from .core.model_store import active_weights_dir
    from .core.predictor import Predictor

    return Predictor(args.weights or active_weights_dir())


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal and the job is long."""

    def __init__(self, total: int):
        self.total = total
        self.enabled = total >= PROGRESS_MIN_FILES and sys.stderr.isatty()

    def update(self, done: int) -> None:
        if self.enabled:
            width = 30
            filled = width * done // self.total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 50 + "\r")
            sys.stderr.flush()


def cmd_predict(args) -> int:
    from .core.discovery import expand_paths
    from .core.grades import KL_LABELS, grade_title

    files, empty_folders = expand_paths(args.paths)
    for folder in empty_folders:
        print(f"kneeoa: {folder}: This folder contains no supported images.", file=sys.stderr)
    if not files:
        return EXIT_FAILED
    overlay_dir = Path(args.overlay_dir) if args.overlay_dir else None
    if overlay_dir is not None:
        try:
            overlay_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"kneeoa: {overlay_dir}: cannot create the folder ({exc.strerror})", file=sys.stderr)
            return EXIT_FAILED
    from .core.pipeline import GradingPipeline

    pipeline = GradingPipeline(_predictor(args))

    csv_handle = None
    csv_writer = None
    if args.csv:
        csv_handle = sys.stdout if args.csv == "-" else io.StringIO()
        csv_writer = csv.writer(csv_handle)
        csv_writer.writerow(["file", "knee", "region", *[f"p_{label}" for label in KL_LABELS], "grade",
                             "oa_probability", "in_scope", "scope_note", "model"])
    elif not args.json:
        print(f"{'file':<40} {'knee':<5} {'grade':<15} " + " ".join(f"{label:>6}" for label in KL_LABELS)
              + "     OA  region")

    failures = len(empty_folders)
    progress = _Progress(len(files))
    used_names: set[str] = set()
    for index, path in enumerate(files):
        try:
            result = pipeline(path)
            if overlay_dir is not None:
                _write_overlay(result, path, overlay_dir, args, used_names)
        except Exception as exc:  # user errors, and bugs too, must not stop the other files
            failures += 1
            progress.close()
            _fail(args, path, exc)
            progress.update(index + 1)
            continue
        for knee in result.knees:
            prediction = knee.prediction
            prediction.source_name = str(path)
            probs = prediction.probabilities
            log.debug("%s %s: KL%d, p=%s, in scope %s, %.0f ms", path, knee.side, prediction.grade,
                      " ".join(f"{p:.3f}" for p in probs), knee.in_scope, prediction.elapsed_ms)
            region = " ".join(str(v) for v in knee.region)
            if args.json:
                print(json.dumps(knee.as_dict(), ensure_ascii=False), flush=True)
            elif csv_writer is not None:
                csv_writer.writerow([str(path), knee.side or "", region, *[f"{p:.6f}" for p in probs],
                                     prediction.grade, f"{prediction.oa_probability:.6f}",
                                     str(knee.in_scope).lower(), knee.scope_note or "", prediction.model])
            else:
                name = str(path) if len(str(path)) <= 40 else "…" + str(path)[-39:]
                verdict = grade_title(prediction.grade) if knee.in_scope else "out of scope"
                print(f"{name:<40} {knee.side_letter or '-':<5} {verdict:<15} "
                      + " ".join(f"{p:6.3f}" for p in probs) + f" {prediction.oa_probability:6.3f}  {region}"
                      + ("" if knee.in_scope else f"  ({knee.scope_note})"), flush=True)
        progress.update(index + 1)
    progress.close()
    if csv_handle is not None and csv_handle is not sys.stdout:
        try:
            from .core.atomic import write_text_atomic

            write_text_atomic(csv_handle.getvalue(), args.csv)
        except KneeOAError as exc:
            _fail(args, args.csv, exc)
            return EXIT_FAILED
    return EXIT_FAILED if failures else EXIT_OK


def _write_overlay(result, path: Path, overlay_dir: Path, args, used_names: set[str]) -> None:
    from .core.export import default_export_name, export_result

    name = default_export_name(path.name)
    stem, n = name[:-4], 2
    while name in used_names:  # same file name from two folders: keep both
        name, n = f"{stem}-{n}.png", n + 1
    used_names.add(name)
    export_result(result, overlay_dir / name, source_path=path, brightness=args.brightness,
                  source_name=path.name, patient=result.image.patient if args.include_patient else None)


def cmd_info(args) -> int:
    from .core.logs import log_file
    from .core.model_store import active_model

    predictor = _predictor(args)
    manifest = predictor.manifest
    origin = f"given with --weights {args.weights}" if args.weights else active_model().describe()
    rows = [
        ("model", manifest.tag),
        ("origin", origin),
        ("file", str(manifest.model_path)),
        ("sha256", manifest.sha256),
        ("input size", f"{manifest.input_size[1]}×{manifest.input_size[0]} gray"),
        ("labels", ", ".join(manifest.labels)),
        ("evidence", predictor.evidence_method),
        ("device", predictor.device),
        ("tensorflow", predictor.versions["tensorflow"]),
        ("keras", predictor.versions["keras"]),
        ("kneeoa", __version__),
        ("log file", str(log_file())),
    ]
    metrics = manifest.metrics
    if metrics:
        rows.append(("val metrics", ", ".join(
            f"{k} {metrics[k]:.3f}" for k in ("accuracy", "quadratic_weighted_kappa", "mae", "oa_auc")
            if isinstance(metrics.get(k), (int, float)))))
    for key, value in rows:
        print(f"{key:<12} {value}")
    return EXIT_OK


def cmd_evaluate(args) -> int:
    from .core.export import write_png_atomic
    from .training.evaluate import confusion_matrix_image, evaluate_folder, format_report

    data_dir = Path(args.data_dir)
    if not data_dir.is_dir():
        print(f"kneeoa: {data_dir}: not a folder", file=sys.stderr)
        return EXIT_FAILED
    predictor = _predictor(args)
    progress = _Progress(0)
    start = time.perf_counter()

    def on_progress(done, total):
        nonlocal progress
        if progress.total != total:  # the walk has counted the files: size the bar
            progress = _Progress(total)
        progress.update(done)

    def on_error(path, exc):
        progress.close()
        _fail(args, path, exc)

    try:
        report = evaluate_folder(data_dir, predictor, on_progress=on_progress, on_error=on_error)
    except FileNotFoundError as exc:
        print(f"kneeoa: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        progress.close()
    report["seconds"] = round(time.perf_counter() - start, 1)
    plot = write_png_atomic(confusion_matrix_image(report), args.plot)
    report["plot"] = str(plot)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(format_report(report))
        print(f"\nconfusion matrix plot: {plot}")
    return EXIT_FAILED if report.get("failed_files") else EXIT_OK


def cmd_download_weights(args) -> int:
    from .core.download import download_model

    if bool(args.url) != bool(args.sha256):
        print("kneeoa: give --url and --sha256 together (the checksum pins what the URL must deliver)",
              file=sys.stderr)
        return EXIT_USAGE
    bar = _ByteProgress()
    try:
        manifest = download_model(args.url, args.sha256, version=args.model_version, progress=bar.update,
                                  timeout=args.timeout, retries=args.retries)
    finally:
        bar.close()
    print(f"model {manifest.tag} (sha256 {manifest.sha256[:12]}…) installed in {manifest.directory} "
          "and now in use")
    return EXIT_OK


def cmd_self_test(args) -> int:
    from .selftest import main as self_test

    if args.weights:
        print("kneeoa: self-test checks the model in use; --weights is not supported here", file=sys.stderr)
        return EXIT_USAGE
    return self_test(args.image)


def cmd_restore_model(args) -> int:
    from .core.manifest import load_manifest
    from .core.model_store import restore_bundled

    active = restore_bundled()
    print(f"now using the bundled model {load_manifest(active.directory).tag}")
    return EXIT_OK


class _ByteProgress:
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


def cmd_train(args) -> int:
    from platformdirs import user_cache_dir

    from .training.config import TrainConfig

    data = Path(args.data)
    for split in ("train", "val"):
        if not (data / split).is_dir():
            print(f"kneeoa: {data / split}: not a folder (expected {data}/train and {data}/val, "
                  "each with 0/ … 4/)", file=sys.stderr)
            return EXIT_FAILED
    try:
        import matplotlib  # noqa: F401  (figures of the run)
    except ImportError:
        if getattr(sys, "frozen", False):  # the installed bundle leaves training out on purpose
            print("kneeoa: training is not part of the installed program; use the source install "
                  "(pip install 'kneeoa-desktop[train]')", file=sys.stderr)
        else:
            print("kneeoa: training needs matplotlib for its figures: pip install 'kneeoa-desktop[train]'",
                  file=sys.stderr)
        return EXIT_FAILED
    from .training.release import train_and_release

    config = TrainConfig(
        data_dir=str(data), run_dir=args.run_dir or f"runs/{args.name}-{args.model_version}",
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        ordinal_weight=args.ordinal_weight, class_weight_power=args.class_weight_power, seed=args.seed,
        limit_per_grade=args.limit_per_grade, steps_per_epoch=args.steps_per_epoch,
        architecture=args.architecture, freeze_through=args.freeze_through,
        jit_compile=args.xla, model_name=args.name, model_version=args.model_version,
        cache_dir=args.cache_dir or str(Path(user_cache_dir("kneeoa")) / "datasets"))
    out = Path(args.out)
    report = train_and_release(config, out, log=lambda text: print(text, flush=True))
    print(f"\nmodel written to {out} (use it with: kneeoa --weights {out} …)")
    return EXIT_OK if report["n"] else EXIT_FAILED


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    main_entry()
