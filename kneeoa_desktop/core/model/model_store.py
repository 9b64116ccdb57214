"""Which model the program uses: the bundled default, or one downloaded into the user's data folder.

Layout under the user data folder (platformdirs; ``$KNEEOA_DATA_DIR`` overrides it)::

    models/<name>-<version>-<sha12>/   a verified model file and its manifest.json
    models/active.json                 which of those folders is in use, where it came from, when
    downloads/                         downloads in progress (kept between attempts, to resume)

The bundled ``weights/`` folder is never written to. Switching models only rewrites the small
``active.json`` pointer (atomically), so a failed, partial or damaged download can never take
the working model away, and *restore the bundled model* is always possible.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from ..atomic import write_text_atomic
from ..errors import ModelError
from ..messages import QT_TRANSLATE_NOOP
from ..paths import user_dir
from .manifest import DEFAULT_WEIGHTS_DIR, ModelManifest, load_manifest, sha256_of

log = logging.getLogger("kneeoa.models")

ACTIVE_NAME = "active.json"


def user_data_dir() -> Path:
    """The per-user folder for downloaded models (``$KNEEOA_DATA_DIR`` wins, for tests and IT)."""
    return user_dir("data", "KNEEOA_DATA_DIR")


def models_dir() -> Path:
    return user_data_dir() / "models"


def downloads_dir() -> Path:
    return user_data_dir() / "downloads"


@dataclass(frozen=True)
class ActiveModel:
    """The model in use and its origin, as ``kneeoa info`` and the About box report it."""

    directory: Path
    origin: str  # "bundled" or "downloaded"
    source: str | None = None  # the URL or Google Drive id it was downloaded from
    installed: str | None = None  # ISO date-time of the download

    @property
    def bundled(self) -> bool:
        return self.origin == "bundled"

    def describe(self) -> str:
        if self.bundled:
            return "bundled with the program"
        when = f" on {self.installed[:10]}" if self.installed else ""
        return f"downloaded from {self.source}{when}"


def bundled_model() -> ActiveModel:
    return ActiveModel(directory=DEFAULT_WEIGHTS_DIR, origin="bundled")


def active_model() -> ActiveModel:
    """The downloaded model named by ``active.json``, else the bundled one.

    A pointer to a folder that has since vanished or been damaged is *not* silently replaced by
    the bundled model: loading then fails with a clear message, and the user chooses to restore
    the bundled model (the GUI offers it; the CLI has ``kneeoa restore-model``).
    """
    pointer = models_dir() / ACTIVE_NAME
    try:
        data = json.loads(pointer.read_text(encoding="utf-8"))
        folder = str(data["directory"])
    except FileNotFoundError:
        return bundled_model()
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("ignoring unreadable model pointer %s", pointer)
        return bundled_model()
    if Path(folder).name != folder or folder in ("", ".", ".."):
        log.warning("ignoring model pointer %s that leaves the models folder", pointer)
        return bundled_model()
    return ActiveModel(directory=models_dir() / folder, origin="downloaded",
                       source=data.get("source"), installed=data.get("installed"))


def active_weights_dir() -> Path:
    return active_model().directory


def install_model(staged_file: Path, manifest: ModelManifest, source: str) -> ModelManifest:
    """Move a verified download into its own folder with its manifest, then make it active.

    ``manifest`` describes the file (its sha256 must match the file: checked again here). The
    folder is assembled under a temporary name and renamed into place, and only then does the
    pointer switch, so an interruption at any step leaves the previous model in use.
    """
    if sha256_of(staged_file) != manifest.sha256.lower():
        raise ModelError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The downloaded model does not match its checksum; it was not installed."))
    root = models_dir()
    root.mkdir(parents=True, exist_ok=True)
    folder_name = _safe_name(f"{manifest.name}-{manifest.version}-{manifest.sha256[:12]}")
    final = root / folder_name
    if final.is_dir() and _intact(final, manifest.sha256):
        staged_file.unlink(missing_ok=True)  # the same model is already installed
    else:
        work = Path(tempfile.mkdtemp(prefix=".install-", dir=root))
        try:
            # The folder is named after the checksum, so the file inside can have a plain name.
            # One file is installed, so the manifest describes one network (never an ensemble's members).
            installed = replace(manifest, directory=work, file=_safe_name(manifest.name) + ".keras",
                                members=(), ensemble_temperature=1.0)
            _fsync_file(staged_file)
            os.replace(staged_file, installed.model_path)
            installed.save()
            if final.exists():  # a damaged earlier copy of the same model: set it aside first
                shutil.rmtree(final, ignore_errors=True)
            os.replace(work, final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    activate(folder_name, source)
    log.info("installed model %s from %s into %s", manifest.tag, source, final)
    return load_manifest(final)


def activate(folder_name: str, source: str | None) -> None:
    """Point ``active.json`` at ``models/<folder_name>`` (atomically)."""
    record = {"directory": folder_name, "source": source,
              "installed": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_text_atomic(json.dumps(record, indent=2) + "\n", models_dir() / ACTIVE_NAME)


def restore_bundled() -> ActiveModel:
    """Use the bundled model again. Downloaded models stay on disk; nothing is overwritten."""
    pointer = models_dir() / ACTIVE_NAME
    try:
        pointer.unlink()
        log.info("restored the bundled model (removed %s)", pointer)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ModelError(QT_TRANSLATE_NOOP(
            "CoreMessages", "Could not switch back to the bundled model ({0})."), exc.strerror or exc) from exc
    return bundled_model()


def _safe_name(text: str) -> str:
    """``text`` as a file or folder name: name and version come from manifests and users, so
    only letters, digits and . + _ - are kept (others become _), and no leading dot."""
    return re.sub(r"[^0-9A-Za-z.+_-]", "_", text).lstrip(".") or "model"


def _intact(folder: Path, sha256: str) -> bool:
    try:
        manifest = load_manifest(folder)
        manifest.verify()
    except ModelError:
        return False
    return manifest.sha256.lower() == sha256.lower()


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
