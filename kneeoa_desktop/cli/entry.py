"""The `kneeoa` command's entry: parse the arguments, set up the log, run one command.

A thin front door onto ``kneeoa_desktop.core``: each command lives in its own module of this
package (``predict``, ``evaluate``, ``calibrate``, ``train``, ``serve``, and ``model`` for info,
download-weights, restore-model and self-test), the arguments and --help texts in ``parser``,
the records in ``output``, the progress bar in ``progress``; no image or model logic does.
Errors a user can cause print one line (``kneeoa: FILE: reason``, see ``common.fail``) and never
a traceback unless ``--debug`` is given.
Exit codes: 0 all files succeeded, 1 any file or the model failed, 2 usage error.
"""

from __future__ import annotations

import os
import sys

from .. import __version__
from ..core.errors import KneeOAError
from . import calibrate, common, evaluate, model, predict, serve, train
from .parser import build_parser

COMMANDS = {"predict": predict.run, "info": model.info, "evaluate": evaluate.run, "train": train.run,
            "download-weights": model.download_weights, "restore-model": model.restore_model,
            "self-test": model.self_test, "serve": serve.run, "calibrate": calibrate.run}


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # A console that cannot show a file name must not turn it into a crash.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    from ..core.logs import setup_logging

    setup_logging("cli")
    common.log.info("kneeoa %s %s", args.command, __version__)
    from ..core.model.engines import ENGINE_ENV

    # Every predictor this command makes (predict, serve, self-test …) reads it; put back after.
    previous_engine = os.environ.get(ENGINE_ENV)
    if args.engine:
        os.environ[ENGINE_ENV] = args.engine
    try:
        return COMMANDS[args.command](args)
    except KneeOAError as exc:
        common.fail(args, None, exc)
        return common.EXIT_FAILED
    except KeyboardInterrupt:
        print("kneeoa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `kneeoa predict … | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return common.EXIT_FAILED
    finally:
        if args.engine:
            if previous_engine is None:
                os.environ.pop(ENGINE_ENV, None)
            else:
                os.environ[ENGINE_ENV] = previous_engine


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
