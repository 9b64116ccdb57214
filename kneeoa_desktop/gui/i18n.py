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
)


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
            return QCoreApplication.translate("CoreMessages", template).format(*match.groups())
    return QCoreApplication.translate("CoreMessages", text)


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
