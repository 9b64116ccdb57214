"""The developer's log: a rotating file in the user log folder, with details and tracebacks.

The user sees one sentence on screen or on stderr; the log keeps what a developer needs to fix
a fault (``kneeoa info`` prints where it is). It never holds DICOM patient identifiers: the code
does not log them, and as a second line of defence every identifier of a loaded DICOM file is
registered with ``redact`` and replaced by ``[redacted]`` in any record that would contain it.
"""

from __future__ import annotations

import logging
import logging.handlers
import threading
from pathlib import Path

from .paths import user_dir

LOG_NAME = "kneeoa.log"
MAX_BYTES = 1_000_000  # a few thousand gradings' worth; three old files are kept
BACKUPS = 3
ROOT = "kneeoa"

_lock = threading.Lock()
_secrets: set[str] = set()
_handler: logging.Handler | None = None


def log_dir() -> Path:
    """``$KNEEOA_LOG_DIR`` or the platform's user log folder (e.g. ~/.local/state/KneeOA/log)."""
    return user_dir("log", "KNEEOA_LOG_DIR")


def log_file() -> Path:
    return log_dir() / LOG_NAME


def setup_logging(component: str) -> Path | None:
    """Send the ``kneeoa`` loggers to the rotating file; returns its path, or None if unwritable.

    Safe to call more than once (one handler), and never raises: a program that cannot write
    its log still grades radiographs.
    """
    global _handler
    with _lock:
        logger = logging.getLogger(ROOT)
        logger.setLevel(logging.DEBUG)
        if _handler is not None:
            return Path(_handler.baseFilename)
        path = log_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
        except OSError:
            return None
        handler.setFormatter(logging.Formatter(
            f"%(asctime)s %(process)d {component} %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_Redactor())
        logger.addHandler(handler)
        logger.propagate = False  # the user sees sentences, not log records, on stderr
        _handler = handler
    logging.getLogger(ROOT).info("KneeOA %s started (log %s)", component, path)
    return path


def shutdown_logging() -> None:
    """Detach and close the file handler (tests; a second setup opens a fresh one)."""
    global _handler
    with _lock:
        if _handler is not None:
            logging.getLogger(ROOT).removeHandler(_handler)
            _handler.close()
            _handler = None


def redact(*values: object) -> None:
    """Never write these strings (patient name, ID, birth date…) into the log."""
    with _lock:
        for value in values:
            text = str(value).strip() if value is not None else ""
            if len(text) >= 3:  # shorter strings would blank out ordinary words
                _secrets.add(text)
                if "^" in text:  # DICOM person names: also the human spellings
                    _secrets.update(p for p in (text.replace("^", " ").strip(),
                                                text.replace("^", ", ").strip()) if len(p) >= 3)


class _Redactor(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        text = message
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        tail = record.exc_text or ""
        for secret in sorted(_secrets, key=len, reverse=True):
            text = text.replace(secret, "[redacted]")
            tail = tail.replace(secret, "[redacted]")
        if text != message:
            record.msg, record.args = text, ()
        record.exc_text = tail or record.exc_text
        return True
