"""What every `kneeoa` command shares: exit codes, the one-line failure report, the model graded with.

Errors a user can cause print one line (``kneeoa: FILE: reason``) and never a traceback unless
``--debug`` is given; the details and tracebacks go to the log file (``kneeoa info`` says where).
"""

from __future__ import annotations

import logging
import sys
import traceback

from ..core.errors import KneeOAError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("kneeoa.cli")


def fail(args, file, exc: BaseException) -> None:
    """Report ``exc`` (about ``file``, or the whole command when None) in one line on stderr."""
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


def predictor_for(args, with_profile: bool = True):
    """The model given with --weights, else the model in use (downloaded, else bundled), with the
    site profile given with --site-profile (refused, in one sentence, if it is for another model)."""
    from ..core.model.model_store import active_weights_dir
    from ..core.model.predictor import Predictor

    predictor = Predictor(args.weights or active_weights_dir())
    if with_profile and getattr(args, "site_profile", None):
        from ..core.verdict.site_profile import load_profile

        predictor.site_profile = load_profile(args.site_profile, predictor.manifest)
    return predictor
