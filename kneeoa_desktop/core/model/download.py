"""Download a model with gdown, verify its sha256 pin, and only then make it the model in use.

The source is a Google Drive file id or share link, or any ``https://`` URL. Plain ``http://`` is
refused, except to the loopback address when ``$KNEEOA_ALLOW_LOOPBACK_HTTP=1`` (the tests' local
server). Every download is pinned to a sha256 given with it (by default the bundled manifest's
``download_url`` and ``sha256``); a file that does not match is deleted, never used.

The bytes go to ``downloads/<sha256>.keras`` under the user data folder (gdown writes a
``.part`` file first and resumes it on the next attempt), are hashed, loaded once as a check,
and then moved into ``models/`` by ``model_store.install_model``. Until that last step the
previous model stays in use, whatever happens to the network, the disk or the process.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from ..errors import DownloadCancelledError, DownloadError, KneeOAError, ModelError
from ..messages import QT_TRANSLATE_NOOP
from . import model_store
from .manifest import DEFAULT_WEIGHTS_DIR, ModelManifest, load_manifest, sha256_of

log = logging.getLogger("kneeoa.download")

DEFAULT_TIMEOUT = 30.0  # seconds without a byte from the server before an attempt fails
DEFAULT_RETRIES = 3  # further attempts after a dropped connection; each resumes the last
_DRIVE_ID = re.compile(r"[A-Za-z0-9_-]{20,}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# The version becomes part of a folder name: keep it to what release numbers are made of.
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}")

_NO_ANSWER = QT_TRANSLATE_NOOP("CoreMessages", "The server {0} did not answer within {1} s; "
                                               "the model in use is unchanged.")

ProgressCallback = Callable[[int, "int | None"], None]


def resolve_source(source: str) -> str:
    """The URL gdown should fetch; refuses anything but https (and test-only loopback http)."""
    source = source.strip()
    if _DRIVE_ID.fullmatch(source):  # a bare Google Drive file id
        return f"https://drive.google.com/uc?id={source}"
    parts = urlsplit(source)
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.hostname:
        return source
    if scheme == "http" and parts.hostname and is_loopback(parts.hostname) \
            and os.environ.get("KNEEOA_ALLOW_LOOPBACK_HTTP") == "1":
        return source
    if scheme == "http":
        raise DownloadError(QT_TRANSLATE_NOOP("CoreMessages", "Model downloads must use https; plain http is refused."))
    raise DownloadError(QT_TRANSLATE_NOOP("CoreMessages", "'{0}' is neither an https URL nor a Google Drive file id."),
                        source)


def check_sha256(sha256: str) -> str:
    sha256 = sha256.strip().lower()
    if not _SHA256.fullmatch(sha256):
        raise DownloadError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The SHA-256 checksum must be 64 hexadecimal characters."))
    return sha256


def valid_version(version: str) -> bool:
    """True for a model version the program accepts: letters, digits and . + _ -, at most 40,
    starting with a letter or digit (the CLI's --model-version and the model dialog's field)."""
    return _VERSION.fullmatch(version) is not None


def default_source(template: ModelManifest | None = None) -> tuple[str | None, str]:
    """The (source, sha256) the bundled manifest names for its own model file."""
    template = template or load_manifest(DEFAULT_WEIGHTS_DIR)
    return template.download_url, template.sha256


def download_model(source: str | None = None, sha256: str | None = None, *, version: str | None = None,
                   progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                   timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES,
                   validate: Callable[[ModelManifest], None] | None = None) -> ModelManifest:
    """Fetch, verify, check and install a model; return the manifest of the newly active model.

    ``source``/``sha256`` default to the bundled manifest's ``download_url`` and ``sha256``; give
    both for another model (e.g. a newer release, whose checksum comes with its release notes).
    ``progress(received, total)`` is called as bytes arrive (total is None when unknown); setting
    ``cancel`` stops the transfer. ``validate(manifest)`` must raise for a model the program cannot
    use (default: load it with the Predictor, safe mode and all); it runs before activation.
    Raises DownloadError (or DownloadCancelledError) with one sentence; the model in use is then
    unchanged.
    """
    template = load_manifest(DEFAULT_WEIGHTS_DIR)
    if source is None:
        source, default_sha = default_source(template)
        if not source:
            raise DownloadError(QT_TRANSLATE_NOOP(
                "CoreMessages", "This model names no download source; give a URL and its SHA-256."))
        sha256 = sha256 or default_sha
    if not sha256:
        raise DownloadError(QT_TRANSLATE_NOOP(
            "CoreMessages", "A download needs the SHA-256 checksum of the file it fetches."))
    sha256 = check_sha256(sha256)
    if version is not None and not valid_version(version):
        raise DownloadError(QT_TRANSLATE_NOOP(
            "CoreMessages", "A model version may hold only letters, digits and . + _ - (at most 40)."))
    url = resolve_source(source)
    staging = model_store.downloads_dir()
    try:
        staging.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(QT_TRANSLATE_NOOP("CoreMessages", "Cannot create the download folder {0} ({1})."),
                            staging, exc.strerror or exc) from exc
    target = staging / f"{sha256}.keras"
    log.info("downloading %s (sha256 %s) to %s", url, sha256, target)
    _fetch(url, target, progress=progress, cancel=cancel, timeout=timeout, retries=retries)

    if sha256_of(target) != sha256:
        target.unlink(missing_ok=True)  # a wrong file must not be resumed or used later
        log.warning("checksum mismatch for %s; the file was deleted", url)
        raise DownloadError(QT_TRANSLATE_NOOP("CoreMessages", "The downloaded file does not match the expected SHA-256 "
                                              "checksum; it was deleted and the model in use is unchanged."))
    manifest = _manifest_for(template, sha256, source, version, target)
    try:
        (validate or _load_with_predictor)(manifest)
    except KneeOAError as exc:
        target.unlink(missing_ok=True)
        raise unusable(exc) from exc
    try:
        return model_store.install_model(target, manifest, source)
    except ModelError as exc:
        raise DownloadError(exc.message) from exc
    except OSError as exc:
        raise DownloadError(QT_TRANSLATE_NOOP("CoreMessages", "The model could not be saved in {0} ({1}); "
                                              "the model in use is unchanged."),
                            model_store.models_dir(), exc.strerror or exc) from exc


def _fetch(url: str, target: Path, *, progress, cancel, timeout: float, retries: int) -> None:
    """gdown into ``target``, translating its and requests' exceptions into one sentence."""
    import gdown
    import requests
    from gdown.exceptions import DownloadCancelled as GdownCancelled
    from gdown.exceptions import DownloadError as GdownError
    from gdown.exceptions import FileURLRetrievalError

    host = urlsplit(url).hostname or url
    try:
        gdown.download(url, str(target), quiet=True, resume=True, use_cookies=False,
                       progress=progress, timeout=timeout, retries=retries, cancel=cancel)
    except GdownCancelled:
        log.info("download of %s cancelled; the partial file is kept for resuming", url)
        raise DownloadCancelledError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The download was cancelled; the model in use is unchanged.")) from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        reason = exc.response.reason if exc.response is not None else ""
        log.warning("download of %s refused: HTTP %s %s", url, status, reason)
        raise DownloadError(QT_TRANSLATE_NOOP("CoreMessages", "The server refused the download (HTTP {0}); "
                                              "the model in use is unchanged."),
                            f"{status} {reason}".rstrip()) from exc
    except FileURLRetrievalError as exc:
        log.warning("Google Drive refused %s: %s", url, exc)
        raise DownloadError(QT_TRANSLATE_NOOP(
            "CoreMessages", "Google Drive did not hand out the file (is it shared with anyone who has the link?); "
                            "the model in use is unchanged.")) from exc
    except requests.Timeout as exc:
        log.warning("download of %s timed out: %s", url, exc)
        raise DownloadError(_NO_ANSWER, host, f"{timeout:g}") from exc
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, GdownError) as exc:
        if _timed_out(exc):
            log.warning("download of %s timed out: %s", url, exc)
            raise DownloadError(_NO_ANSWER, host, f"{timeout:g}") from exc
        log.warning("download of %s failed: %s", url, exc, exc_info=True)
        raise DownloadError(QT_TRANSLATE_NOOP("CoreMessages", "The connection to {0} failed or dropped; the part "
                                              "received is kept so that the next attempt resumes, and the model in "
                                              "use is unchanged."), host) from exc
    except OSError as exc:
        log.warning("download of %s could not be written: %s", url, exc, exc_info=True)
        raise DownloadError(QT_TRANSLATE_NOOP("CoreMessages", "The download could not be written to {0} ({1}); "
                                              "the model in use is unchanged."),
                            target.parent, exc.strerror or exc) from exc


def _timed_out(exc: BaseException) -> bool:
    """gdown wraps the last requests error after its retries; look through the chain."""
    import requests

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _manifest_for(template: ModelManifest, sha256: str, source: str, version: str | None,
                  file: Path) -> ModelManifest:
    """The manifest of a downloaded file: the bundled one when it is the same file, else derived.

    A different file keeps the bundled model's name, input size, labels and test-time flip (the
    program can only use a model of that shape: the load check enforces it), gets ``version``
    (or the bundled version with the checksum's first 8 characters), and no metrics: the bundled
    model's validation figures say nothing about another file. A download is one network: when
    the bundled model is an ensemble, what is installed is a single network, even when it is the
    ensemble's first member, and it carries neither the ensemble's members nor its figures.
    """
    # What is downloaded is the `.keras` file alone: it is graded by the TensorFlow engine (the
    # bundled model's exported ONNX graphs belong to the bundled file, not to this folder).
    if sha256 == template.sha256.lower() and not template.members:
        return replace(template, download_url=source, directory=file.parent, file=file.name,
                       onnx_file="", onnx_sha256="")
    return replace(template, version=version or f"{template.version}+{sha256[:8]}", sha256=sha256,
                   metrics={}, training={}, download_url=source, directory=file.parent, file=file.name,
                   members=(), ensemble_temperature=1.0, onnx_file="", onnx_sha256="",
                   description=f"Downloaded from {source}; not the model described by the bundled model card.")


def _load_with_predictor(manifest: ModelManifest) -> None:
    from .predictor import Predictor

    Predictor(manifest)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (plain-HTTP downloads and the server's binding)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unusable(exc: KneeOAError) -> DownloadError:
    """The error for a downloaded model that failed its check; ``exc`` (why) is quoted inside."""
    return DownloadError(QT_TRANSLATE_NOOP("CoreMessages", "The downloaded model cannot be used ({0}); "
                                           "the model in use is unchanged."), exc.message.as_clause())
