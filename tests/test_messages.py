"""Core sentences travel as a template plus values: every template the core marks has a Russian
translation that keeps every value, str(error) stays the English sentence, and no error is
raised from a bare English string (which the GUI could only show in English)."""

from __future__ import annotations

import ast
import pickle
import string
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication

from kneeoa_desktop.core.model import download
from kneeoa_desktop.core import errors
from kneeoa_desktop.core.messages import CONTEXT, QT_TRANSLATE_NOOP, Message
from kneeoa_desktop.gui import i18n

CORE = Path(errors.__file__).parent
ERROR_CLASSES = set()
_pending = [errors.KneeOAError]
while _pending:
    cls = _pending.pop()
    ERROR_CLASSES.add(cls.__name__)
    _pending.extend(cls.__subclasses__())


def _marked() -> list[tuple[str, str, str]]:
    """(file, context, template) of every QT_TRANSLATE_NOOP call in the core's source."""
    found = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "QT_TRANSLATE_NOOP":
                context, text = node.args
                if isinstance(context, ast.Constant) and isinstance(text, ast.Constant):
                    found.append((path.name, context.value, text.value))
    return found


TEMPLATES = _marked()


def _fields(template: str) -> list[int]:
    return sorted({int(name) for _, name, _, _ in string.Formatter().parse(template) if name is not None})


def test_the_core_marks_its_sentences_in_one_context():
    assert len(TEMPLATES) >= 50
    assert {context for _, context, _ in TEMPLATES} == {CONTEXT}
    for name, _, template in TEMPLATES:  # positional placeholders {0}, {1}, … only
        assert _fields(template) == list(range(len(_fields(template)))), (name, template)


@pytest.fixture
def russian(qapp):
    switcher = i18n.LanguageSwitcher(qapp)
    assert switcher.apply("ru") == "ru"
    yield
    switcher.apply("en")


@pytest.mark.parametrize("name, template", [(n, t) for n, _, t in TEMPLATES], ids=[t[:50] for _, _, t in TEMPLATES])
def test_every_core_template_has_a_russian_translation_that_keeps_its_values(russian, name, template):
    translated = QCoreApplication.translate(CONTEXT, template)
    assert translated and translated != template, f"{name}: no Russian for {template!r}"
    values = [f"<value {k}>" for k in _fields(template)]
    filled = i18n.core_message(Message(template, *values))
    assert filled == translated.format(*values)
    for value in values:
        assert value in filled, (template, filled)


def test_no_core_error_is_raised_from_a_bare_sentence():
    """A literal or f-string as an error's message would reach the GUI untranslatable."""
    bare = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERROR_CLASSES and node.args
                    and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp))):
                bare.append(f"{path.name}:{node.lineno}")
    assert not bare, bare


def test_str_of_an_error_is_the_english_sentence_with_its_template_and_values():
    error = errors.ExportError(QT_TRANSLATE_NOOP("CoreMessages", "The folder {0} does not exist."), Path("/x/y"))
    assert str(error) == "The folder /x/y does not exist." and f"{error}" == str(error)
    assert error.template == "The folder {0} does not exist." and error.values == (Path("/x/y"),)
    message = str(error)
    assert isinstance(message, Message) and message.template == error.template
    again = errors.DownloadError(error.message)  # raised again under another type: nothing lost
    assert str(again) == str(error) and again.values == error.values
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error) and copy.template == error.template and copy.values == error.values


def test_a_sentence_quoted_in_another_is_translated_too(russian):
    inner = errors.ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model manifest {0} is missing."), "m.json")
    outer = download.unusable(inner)
    assert str(outer) == "The downloaded model cannot be used (The model manifest m.json is missing); " \
                         "the model in use is unchanged."
    assert i18n.core_message(outer) == ("Загруженную модель нельзя использовать (Манифест модели m.json "
                                        "отсутствует); текущая модель не изменилась.")
