"""Interface languages (English, Russian) through Qt's translation system.

English is the source language of every string; Russian comes from
``resources/translations/kneeoa_ru.qm`` (compiled from ``kneeoa_ru.ts`` with
``pyside6-lrelease``) plus Qt's own ``qtbase_ru.qm`` for standard buttons and dialogs.
The core speaks English; its grade names and disclaimer are translated here, and its sentences
(errors, scope notes) travel as a template plus values (``core.messages``): ``core_message``
translates the template and fills in the values, so a Russian interface does not switch language
mid-sentence and nothing parses an English sentence back.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLibraryInfo, QLocale, QTranslator

from ..core.errors import KneeOAError
from ..core.messages import CONTEXT, Message
from ..core.paths import resources_dir
from ..core.verdict.grades import DISCLAIMER, KL_LABELS, KL_NAMES

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
# The core's sentences are marked where they are raised (``core.messages.QT_TRANSLATE_NOOP``,
# context CoreMessages); lupdate reads core/*.py for them.


def translations_dir() -> Path:
    return resources_dir() / "translations"


def system_language() -> str:
    """'ru' when the system locale is Russian, else 'en'."""
    return "ru" if QLocale.system().language() == QLocale.Language.Russian else "en"


def grade_name(grade: int) -> str:
    """The grade's name ('none' … 'severe') in the interface language."""
    return QCoreApplication.translate("Grades", KL_NAMES[grade])


def grade_title(grade: int) -> str:
    """E.g. 'KL2 (minimal)' in the interface language; mirrors ``core.verdict.grades.grade_title``."""
    return f"{KL_LABELS[grade]} ({grade_name(grade)})"


def disclaimer() -> str:
    return QCoreApplication.translate("Grades", DISCLAIMER)


def core_message(message: KneeOAError | Message | str) -> str:
    """A core sentence in the interface language (English when no translation is known).

    ``message`` is a core error, its ``str()`` (a ``core.messages.Message``, which keeps the
    template and the values), or a sentence without values (a scope note). The template is
    translated (context CoreMessages), then the values are filled in; a value that is itself a
    core sentence is translated the same way.
    """
    if isinstance(message, KneeOAError):
        message = message.message
    if not isinstance(message, Message):
        return QCoreApplication.translate(CONTEXT, str(message))
    values = [core_message(v) if isinstance(v, Message) else v for v in message.values]
    text = QCoreApplication.translate(CONTEXT, message.template)
    try:
        text = text.format(*values) if values else text
    except (IndexError, KeyError, ValueError):  # a translation with broken placeholders
        text = str(message)
    return text.removesuffix(".") if message.clause else text


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
