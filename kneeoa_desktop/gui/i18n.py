"""Interface languages (English, Russian) through Qt's translation system.

English is the source language of every string; Russian comes from
``resources/translations/kneeoa_ru.qm`` (compiled from ``kneeoa_ru.ts`` with
``pyside6-lrelease``) plus Qt's own ``qtbase_ru.qm`` for standard buttons and dialogs.
The core speaks English; its grade names, disclaimer and fixed error sentences are
translated here so that a Russian interface does not switch language mid-sentence.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QT_TRANSLATE_NOOP, QTranslator

from ..core.grades import DISCLAIMER, KL_LABELS, KL_NAMES
from ..core.paths import resources_dir

# Codes offered in the Language menu, with each language's name in itself (never translated,
# so that a user lost in a foreign interface still finds their own).
LANGUAGES = {"en": "English", "ru": "Русский"}
SYSTEM = ""  # the setting's value for "follow the system locale"

# Registered for lupdate; looked up at run time with the same context and text.
_GRADE_NAMES = (
    QT_TRANSLATE_NOOP("Grades", "none"),
    QT_TRANSLATE_NOOP("Grades", "doubtful"),
    QT_TRANSLATE_NOOP("Grades", "minimal"),
    QT_TRANSLATE_NOOP("Grades", "moderate"),
    QT_TRANSLATE_NOOP("Grades", "severe"),
)
_DISCLAIMER = QT_TRANSLATE_NOOP("Grades", "Decision support only — not a diagnosis")
_CORE_MESSAGES = (
    QT_TRANSLATE_NOOP("CoreMessages", "This is a folder, not an image file."),
    QT_TRANSLATE_NOOP("CoreMessages", "The file is larger than 1 GB, which is not a plausible radiograph."),
    QT_TRANSLATE_NOOP("CoreMessages", "The file does not exist."),
    QT_TRANSLATE_NOOP("CoreMessages", "The file cannot be read: permission denied."),
    QT_TRANSLATE_NOOP("CoreMessages", "The file is empty."),
    QT_TRANSLATE_NOOP("CoreMessages", "This is not a supported image (PNG, JPEG, BMP, TIFF or DICOM)."),
    QT_TRANSLATE_NOOP("CoreMessages", "The image header gives an invalid size."),
    QT_TRANSLATE_NOOP("CoreMessages", "The image has an unsupported pixel layout."),
    QT_TRANSLATE_NOOP("CoreMessages", "The image holds no valid pixel values."),
    QT_TRANSLATE_NOOP("CoreMessages", "The DICOM file is damaged and cannot be read."),
    QT_TRANSLATE_NOOP("CoreMessages", "The DICOM file holds no image (no pixel data)."),
    QT_TRANSLATE_NOOP("CoreMessages", "The DICOM file lacks a valid image size."),
    QT_TRANSLATE_NOOP("CoreMessages", "The DICOM file announces an implausible number of frames."),
    QT_TRANSLATE_NOOP("CoreMessages", "The DICOM pixel data is damaged and cannot be decoded."),
    QT_TRANSLATE_NOOP("CoreMessages", "The DICOM image has an unsupported pixel layout."),
    QT_TRANSLATE_NOOP("CoreMessages", "The annotated image could not be encoded as PNG."),
    QT_TRANSLATE_NOOP("CoreMessages", "The export would overwrite the source radiograph; choose another name."),
    QT_TRANSLATE_NOOP("CoreMessages", "The model manifest must list exactly five KL grades."),
    QT_TRANSLATE_NOOP("CoreMessages", "The model manifest names a file outside its own folder."),
    QT_TRANSLATE_NOOP("CoreMessages", "The model contains a Lambda layer (arbitrary code); it was not loaded."),
    # Model downloads and the model store (core/download.py, core/model_store.py).
    QT_TRANSLATE_NOOP("CoreMessages", "Model downloads must use https; plain http is refused."),
    QT_TRANSLATE_NOOP("CoreMessages", "The SHA-256 checksum must be 64 hexadecimal characters."),
    QT_TRANSLATE_NOOP("CoreMessages", "This model names no download source; give a URL and its SHA-256."),
    QT_TRANSLATE_NOOP("CoreMessages", "A download needs the SHA-256 checksum of the file it fetches."),
    QT_TRANSLATE_NOOP("CoreMessages", "The downloaded file does not match the expected SHA-256 checksum; "
                                      "it was deleted and the model in use is unchanged."),
    QT_TRANSLATE_NOOP("CoreMessages", "The download was cancelled; the model in use is unchanged."),
    QT_TRANSLATE_NOOP("CoreMessages", "Google Drive did not hand out the file (is it shared with anyone who "
                                      "has the link?); the model in use is unchanged."),
    QT_TRANSLATE_NOOP("CoreMessages", "The downloaded model does not match its checksum; it was not installed."),
    # Why a region is outside what the model can grade (core/scope.py NOTES).
    QT_TRANSLATE_NOOP("CoreMessages", "This looks like a lateral view; KL grading needs a PA or AP view."),
    QT_TRANSLATE_NOOP("CoreMessages", "Metal implant: a replaced joint cannot be KL-graded."),
    QT_TRANSLATE_NOOP("CoreMessages", "This does not look like a knee radiograph."),
)
# Core sentences with a value inside: (pattern, translatable template with {0}, {1}, …).
_CORE_PATTERNS = (
    (re.compile(r"^The (\w+) file is damaged or truncated and cannot be decoded\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The {0} file is damaged or truncated and cannot be decoded.")),
    (re.compile(r"^The image is (\d+)×(\d+) pixels; at least (\d+)×\d+ is needed\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The image is {0}×{1} pixels; at least {2}×{2} is needed.")),
    (re.compile(r"^The selected region must be at least (\d+)×\d+ pixels inside the image\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The selected region must be at least {0}×{0} pixels inside the image.")),
    (re.compile(r"^The folder (.+) does not exist\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The folder {0} does not exist.")),
    (re.compile(r"^Cannot write into (.+): permission denied or read-only\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "Cannot write into {0}: permission denied or read-only.")),
    (re.compile(r"^The disk holding (.+) is full; nothing was written\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The disk holding {0} is full; nothing was written.")),
    (re.compile(r"^The image is (\d+)×(\d+) pixels, more than the (\d+) megapixels this program accepts\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The image is {0}×{1} pixels, more than the {2} megapixels this program accepts.")),
    # The model and its manifest (core/manifest.py, core/predictor.py, gui/worker.py).
    (re.compile(r"^The model file (.+) is missing from (.+)\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The model file {0} is missing from {1}.")),
    (re.compile(r"^The model file (.+) is damaged or was altered \(its checksum does not match the manifest\)\.$"),
     QT_TRANSLATE_NOOP("CoreMessages",
                       "The model file {0} is damaged or was altered (its checksum does not match the manifest).")),
    (re.compile(r"^The model file (.+) cannot be loaded \((\w+)\)\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The model file {0} cannot be loaded ({1}).")),
    (re.compile(r"^The model manifest (.+) is missing\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The model manifest {0} is missing.")),
    (re.compile(r"^The model manifest (.+) is unreadable or damaged\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The model manifest {0} is unreadable or damaged.")),
    (re.compile(r"^The model manifest (.+) lacks required fields\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The model manifest {0} lacks required fields.")),
    (re.compile(r"^The model contains an unknown layer type \((\w+)\); it was not loaded\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The model contains an unknown layer type ({0}); it was not loaded.")),
    (re.compile(r"^The model's shape (.+)→(.+) does not match its manifest \((.+) gray → (\d+) grades\)\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The model's shape {0}→{1} does not match its manifest "
                                       "({2} gray → {3} grades).")),
    (re.compile(r"^The model could not be loaded \((\w+)\)\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The model could not be loaded ({0}).")),
    (re.compile(r"^An unexpected error occurred while grading \((\w+)\); details are in the log file\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "An unexpected error occurred while grading ({0}); "
                                       "details are in the log file.")),
    # Model downloads and the model store (core/download.py, core/model_store.py).
    (re.compile(r"^'(.*)' is neither an https URL nor a Google Drive file id\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "'{0}' is neither an https URL nor a Google Drive file id.")),
    (re.compile(r"^Cannot create the download folder (.+) \((.+)\)\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "Cannot create the download folder {0} ({1}).")),
    (re.compile(r"^The downloaded model cannot be used \((.+)\); the model in use is unchanged\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The downloaded model cannot be used ({0}); the model in use is unchanged.")),
    (re.compile(r"^The model could not be saved in (.+) \((.+)\); the model in use is unchanged\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The model could not be saved in {0} ({1}); the model in use is unchanged.")),
    (re.compile(r"^The server refused the download \(HTTP (.+?)\); the model in use is unchanged\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The server refused the download (HTTP {0}); the model in use is unchanged.")),
    (re.compile(r"^The server (.+) did not answer within (.+) s; the model in use is unchanged\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The server {0} did not answer within {1} s; the model in use is unchanged.")),
    (re.compile(r"^The connection to (.+) failed or dropped; the part received is kept so that the next attempt "
                r"resumes, and the model in use is unchanged\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The connection to {0} failed or dropped; the part received is kept so that "
                                       "the next attempt resumes, and the model in use is unchanged.")),
    (re.compile(r"^The download could not be written to (.+) \((.+)\); the model in use is unchanged\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "The download could not be written to {0} ({1}); "
                                       "the model in use is unchanged.")),
    (re.compile(r"^Could not switch back to the bundled model \((.+)\)\.$"),
     QT_TRANSLATE_NOOP("CoreMessages", "Could not switch back to the bundled model ({0}).")),
)
# Patterns whose first value is itself a core sentence (without its full stop), translated too.
_NESTED = {"The downloaded model cannot be used ({0}); the model in use is unchanged."}


def translations_dir() -> Path:
    return resources_dir() / "translations"


def system_language() -> str:
    """'ru' when the system locale is Russian, else 'en'."""
    return "ru" if QLocale.system().language() == QLocale.Language.Russian else "en"


def grade_name(grade: int) -> str:
    """The grade's name ('none' … 'severe') in the interface language."""
    return QCoreApplication.translate("Grades", KL_NAMES[grade])


def grade_title(grade: int) -> str:
    """E.g. 'KL2 (minimal)' in the interface language; mirrors ``core.grades.grade_title``."""
    return f"{KL_LABELS[grade]} ({grade_name(grade)})"


def disclaimer() -> str:
    return QCoreApplication.translate("Grades", DISCLAIMER)


def core_message(text: str) -> str:
    """A core error sentence in the interface language (English when no translation is known)."""
    for pattern, template in _CORE_PATTERNS:
        match = pattern.match(text)
        if match:
            values = list(match.groups())
            if template in _NESTED:
                values[0] = core_message(values[0] + ".").removesuffix(".")
            return QCoreApplication.translate("CoreMessages", template).format(*values)
    return QCoreApplication.translate("CoreMessages", text)


def describe_origin(active) -> str:
    """Where the model in use came from (``model_store.ActiveModel``), in the interface language."""
    if active.bundled:
        return QCoreApplication.translate("Models", "bundled with the program")
    if active.installed:
        return QCoreApplication.translate("Models", "downloaded from {0} on {1}").format(
            active.source or "?", active.installed[:10])
    return QCoreApplication.translate("Models", "downloaded from {0}").format(active.source or "?")


class LanguageSwitcher:
    """Installs and replaces the application's translators.

    Installing or removing a translator makes Qt send every widget a LanguageChange event,
    on which each widget re-reads its texts (see ``changeEvent`` in the widgets).
    """

    def __init__(self, app: QCoreApplication):
        self._app = app
        self._installed: list[QTranslator] = []
        self.current = "en"

    def apply(self, code: str = SYSTEM) -> str:
        """Switch to ``code`` ('en', 'ru', or '' for the system locale); returns the language used."""
        language = code if code in LANGUAGES else system_language()
        for translator in self._installed:
            self._app.removeTranslator(translator)
        self._installed = []
        if language != "en":
            ours = QTranslator(self._app)
            if ours.load(f"kneeoa_{language}", str(translations_dir())):
                self._app.installTranslator(ours)
                self._installed.append(ours)
            else:  # a broken install must not stop the program; English is always there
                language = "en"
        if language != "en":
            qt_own = QTranslator(self._app)
            if qt_own.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
                self._app.installTranslator(qt_own)
                self._installed.append(qt_own)
        self.current = language
        return language
