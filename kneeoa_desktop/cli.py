"""The `kneeoa` command: grade radiographs, evaluate, train, describe and download the model.

A thin front door onto ``kneeoa_desktop.core``: the subcommands and exit codes live here, the
arguments and --help texts in ``cli_parser``, the records in ``cli_output``, the progress bar
in ``cli_progress``;
no image or model logic does. Errors a user can cause print one line
(``kneeoa: FILE: reason``) and never a traceback unless ``--debug`` is given; the details
and tracebacks go to the log file (``kneeoa info`` says where).
Exit codes: 0 all files succeeded, 1 any file or the model failed, 2 usage error.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import __version__
from .cli_output import ByteProgress, records_for
from .cli_parser import build_parser
from .cli_progress import Progress
from .core.errors import KneeOAError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("kneeoa.cli")
#: Threads drawing and writing --overlay-dir PNGs while the next films are graded.
_WRITERS = 2


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
    from .core.engines import ENGINE_ENV

    # Every predictor this command makes (predict, serve, self-test …) reads it; put back after.
    previous_engine = os.environ.get(ENGINE_ENV)
    if args.engine:
        os.environ[ENGINE_ENV] = args.engine
    try:
        return {"predict": cmd_predict, "info": cmd_info, "evaluate": cmd_evaluate,
                "train": cmd_train, "download-weights": cmd_download_weights,
                "restore-model": cmd_restore_model, "self-test": cmd_self_test,
                "serve": cmd_serve, "calibrate": cmd_calibrate}[args.command](args)
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
    finally:
        if args.engine:
            if previous_engine is None:
                os.environ.pop(ENGINE_ENV, None)
            else:
                os.environ[ENGINE_ENV] = previous_engine


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


def cmd_serve(args) -> int:
    from .server.cli_serve import cmd_serve as serve

    return serve(args)


def _predictor(args, with_profile: bool = True):
    """The model given with --weights, else the model in use (downloaded, else bundled), with the
    site profile given with --site-profile (refused, in one sentence, if it is for another model)."""
    from .core.model_store import active_weights_dir
    from .core.predictor import Predictor

    predictor = Predictor(args.weights or active_weights_dir())
    if with_profile and getattr(args, "site_profile", None):
        from .core.site_profile import load_profile

        predictor.site_profile = load_profile(args.site_profile, predictor.manifest)
    return predictor


def cmd_calibrate(args) -> int:
    from .cli_calibrate import cmd_calibrate as calibrate

    return calibrate(args, _predictor, _fail)


def cmd_predict(args) -> int:
    from .core.discovery import expand_paths

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
        _fail(args, path, exc)
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
        _fail(args, args.csv, exc)
        return EXIT_FAILED
    return EXIT_FAILED if failures else EXIT_OK


def _overlay_name(path: Path, used_names: set[str]) -> str:
    """The annotated PNG's name for ``path``, unique in this run (chosen on the main thread, in
    the order the files were given, so that two writers never pick the same name)."""
    from .core.export import default_export_name

    name = default_export_name(path.name)
    stem, n = name[:-4], 2
    while name in used_names:  # same file name from two folders: keep both
        name, n = f"{stem}-{n}.png", n + 1
    used_names.add(name)
    return name


def _write_overlay(result, path: Path, target: Path, args) -> None:
    from .core.export import export_result

    export_result(result, target, source_path=path, brightness=args.brightness,
                  source_name=path.name, patient=result.image.patient if args.include_patient else None)


def cmd_info(args) -> int:
    from .core.model_info import model_facts

    for key, value in model_facts(_predictor(args), args.weights).items():
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
    progress = Progress(0, "evaluating", json_output=args.json)  # sized by the first report
    start = time.perf_counter()

    def on_error(path, exc):
        progress.clear()
        _fail(args, path, exc)

    details: dict = {}
    try:
        report = evaluate_folder(data_dir, predictor, on_progress=progress.update, on_error=on_error, details=details)
    except FileNotFoundError as exc:
        print(f"kneeoa: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        progress.close()
    report["seconds"] = round(time.perf_counter() - start, 1)
    plot = write_png_atomic(confusion_matrix_image(report), args.plot)
    report["plot"] = str(plot)
    if args.html:
        from .training.site_report import write_html_report

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
    return EXIT_FAILED if report.get("failed_files") else EXIT_OK


def cmd_download_weights(args) -> int:
    from .core.download import download_model

    if bool(args.url) != bool(args.sha256):
        print("kneeoa: give --url and --sha256 together (the checksum pins what the URL must deliver)",
              file=sys.stderr)
        return EXIT_USAGE
    bar = ByteProgress()
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


def cmd_train(args) -> int:
    from platformdirs import user_cache_dir

    from .training.config import TrainConfig

    data = Path(args.data)
    for split in ("train", "val"):
        if not (data / split).is_dir():
            print(f"kneeoa: {data / split}: not a folder (expected {data}/train and {data}/val, "
                  "each with 0/ … 4/)", file=sys.stderr)
            return EXIT_FAILED
    from .core.engines import installed

    missing = [m for m in ("tensorflow", "keras", "tf2onnx", "matplotlib") if not installed(m)]
    if missing:
        if getattr(sys, "frozen", False):  # the installed bundle leaves training out on purpose
            print("kneeoa: training is not part of the installed program; use the source install "
                  "(pip install 'kneeoa-desktop[train]')", file=sys.stderr)
        else:
            print(f"kneeoa: training needs {', '.join(missing)}: pip install 'kneeoa-desktop[train]'",
                  file=sys.stderr)
        return EXIT_FAILED
    if args.init_from and not Path(args.init_from).is_file():
        print(f"kneeoa: {args.init_from}: no such model file", file=sys.stderr)
        return EXIT_FAILED
    from .training.release import train_and_release

    config = TrainConfig(
        data_dir=str(data), run_dir=args.run_dir or f"runs/{args.name}-{args.model_version}",
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        ordinal_weight=args.ordinal_weight, class_weight_power=args.class_weight_power, seed=args.seed,
        limit_per_grade=args.limit_per_grade, steps_per_epoch=args.steps_per_epoch,
        architecture=args.architecture, freeze_through=args.freeze_through, init_from=args.init_from,
        squared_rate=args.squared_rate, augmentation=args.augmentation, jit_compile=args.xla, model_name=args.name, model_version=args.model_version,
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
