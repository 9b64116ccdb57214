"""Russian and English through Qt's translation system: the shipped files, switching from the
menu, remembering the choice, following the system locale, and translated core sentences."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QTranslator

from kneeoa_desktop.core.errors import KneeOAError, ModelError
from kneeoa_desktop.core.film.imaging import decode_image
from kneeoa_desktop.core.messages import QT_TRANSLATE_NOOP
from kneeoa_desktop.core.film.pixels import check_dimensions
from kneeoa_desktop.core.film.raster import decode_raster
from kneeoa_desktop.gui import i18n

from .gui_helpers import counting, gui_settings, make_window  # noqa: F401

TS = i18n.translations_dir() / "kneeoa_ru.ts"
QM = i18n.translations_dir() / "kneeoa_ru.qm"
PACKAGE = i18n.translations_dir().parents[1] / "kneeoa_desktop"
# The GUI's own strings, and the core's sentences (marked with core.messages.QT_TRANSLATE_NOOP).
GUI_SOURCES = sorted((PACKAGE / "gui").glob("*.py"))
SOURCES = GUI_SOURCES + sorted((PACKAGE / "core").rglob("*.py"))


def _messages():
    for context in ET.parse(TS).getroot().iter("context"):
        for message in context.iter("message"):
            yield context.findtext("name"), message.findtext("source"), message.find("translation")


def test_every_string_is_translated_and_compiled(tmp_path):
    messages = list(_messages())
    assert len(messages) > 50
    for context, source, translation in messages:
        assert translation.get("type") is None, f"{context}: {source!r} is not finished"
        assert translation.text and re.search("[а-яё]", translation.text, re.I), f"{source!r} has no Russian"
        # Placeholders must survive translation, or .format() would fail or lie.
        assert set(re.findall(r"\{\d\}", source)) == set(re.findall(r"\{\d\}", translation.text)), source
    assert QTranslator().load(str(QM))
    lrelease = Path(sys.executable).parent / "pyside6-lrelease"
    if lrelease.exists():  # the committed .qm must be what the committed .ts compiles to
        subprocess.run([str(lrelease), str(TS), "-qm", str(tmp_path / "fresh.qm")], check=True, capture_output=True)
        assert (tmp_path / "fresh.qm").read_bytes() == QM.read_bytes(), "run pyside6-lrelease on kneeoa_ru.ts"


def test_the_ts_file_holds_every_string_in_the_code():
    """Each self.tr / translate literal in the GUI and each marked core sentence has an entry
    (run pyside6-lupdate after edits: see the README)."""
    known = {(c, s) for c, s, _ in _messages()}
    sources = {s for _, s in known}
    literal = r'"(?:[^"\\]|\\.)*"'
    call = re.compile(rf"(?:self\.tr\(|(?:QT_TRANSLATE_NOOP|translate)\(\s*\"\w+\",)\s*((?:{literal}\s*)+)")
    found = 0
    for path in SOURCES:
        for pieces in call.findall(path.read_text(encoding="utf-8")):
            # Adjacent literals are one string to Python and to lupdate.
            text = "".join(piece[1:-1] for piece in re.findall(literal, pieces))
            text = text.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
            assert text in sources, f"{path.name}: {text!r} is missing from {TS.name}"
            found += 1
    assert found >= len(sources) - 10


def test_each_self_tr_string_is_filed_under_its_own_class():
    """Qt looks a ``self.tr`` text up under the class's name (or a base class's): a sentence moved to
    another class must move to that context in the .ts too, or it silently stays English."""
    import ast

    known = {(c, s) for c, s, _ in _messages()}
    checked = 0
    for path in GUI_SOURCES:
        for cls in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(cls, ast.ClassDef):
                continue
            for call in ast.walk(cls):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "tr"
                        and isinstance(call.func.value, ast.Name) and call.func.value.id == "self"
                        and call.args and isinstance(call.args[0], ast.Constant)):
                    assert (cls.name, call.args[0].value) in known, f"{path.name}: {cls.name}: {call.args[0].value!r}"
                    checked += 1
    assert checked > 100


def test_switching_to_russian_changes_the_visible_interface(qtbot, make_window, gui_settings, knee_png):
    window = make_window()
    window.open_path(knee_png)
    from .gui_helpers import wait_for_result

    wait_for_result(qtbot, window, knee_png)
    assert window.file_menu.title() == "&File"
    grade = window.shown().prediction.grade
    english_status = window.model_label.text()
    window.language_actions["ru"].trigger()
    # Qt posts LanguageChange to the windows: the texts change on the next turn of the event loop.
    qtbot.waitUntil(lambda: window.file_menu.title() == "&Файл", timeout=2000)
    assert window.open_action.text() == "&Открыть…"
    assert window.verdict._caption.text() == "Предсказанная степень по Келлгрену–Лоуренсу"
    assert window.side_panel.disclaimer.text() == "Только поддержка принятия решений — не диагноз"
    assert window.model_label.text().startswith("Модель: ") and window.model_label.text() != english_status
    assert window.controls.grade_combo.itemText(grade).endswith("— прогноз модели")
    assert window.language_actions["ru"].isChecked()
    assert gui_settings.language == "ru"
    window.language_actions["en"].trigger()
    qtbot.waitUntil(lambda: window.file_menu.title() == "&File", timeout=2000)
    assert window.side_panel.disclaimer.text() == "Decision support only — not a diagnosis"
    assert gui_settings.language == "en"
    window.language_actions[i18n.SYSTEM].trigger()
    assert gui_settings.language == ""


def test_every_part_of_the_window_speaks_russian(qtbot, make_window, knee_png, tmp_path):
    """The status bar, side panel, menus and export each translate their own texts."""
    from .gui_helpers import wait_for_result

    window = make_window()
    window.open_path(knee_png)
    wait_for_result(qtbot, window, knee_png)
    window.set_language("ru")
    qtbot.waitUntil(lambda: window.file_menu.title() == "&Файл", timeout=2000)
    assert window.statusBar().currentMessage() == "Готово"
    assert window.device_label.text().startswith("Устройство: ")
    assert window.timing_label.text().startswith("Последняя оценка: ")
    assert window.side_panel.source_caption.text() == "Рентгенограмма"
    assert "Оценено: всё изображение" in window.side_panel.source_info.text()
    assert window.export_action.iconText() == "Экспорт"
    written = window.export_to(tmp_path / "ru.png")
    assert window.statusBar().currentMessage() == f"Экспортировано: {written}"
    window.set_language("en")
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "Ready", timeout=2000)
    assert window.side_panel.source_caption.text() == "Radiograph"


def _raised(call, *args) -> KneeOAError:
    with pytest.raises(KneeOAError) as info:
        call(*args)
    return info.value


def test_core_sentences_are_translated_when_known(make_window):
    """Errors travel as template + values: the GUI translates the template, then fills in the
    values; the error itself and its str() (what the window passes on) translate alike."""
    empty = _raised(decode_image, b"")
    damaged = _raised(decode_raster, b"\x89PNG\r\n\x1a\n", "PNG")
    small = _raised(check_dimensions, 32, 32)
    assert str(damaged) == "The PNG file is damaged or truncated and cannot be decoded."
    assert str(small) == "The image is 32×32 pixels; at least 64×64 is needed."
    window = make_window()
    window.set_language("ru")
    for error in (empty, str(empty)):
        assert i18n.core_message(error) == "Файл пуст."
    for error in (damaged, str(damaged)):
        assert i18n.core_message(error) == "Файл PNG повреждён или обрезан и не может быть декодирован."
    for error in (small, str(small)):
        assert i18n.core_message(error) == "Размер изображения — 32×32 пикс.; требуется не менее 64×64."
    assert i18n.core_message("The file is empty.") == "Файл пуст."  # a sentence without values
    assert i18n.core_message("Some sentence the GUI has never seen.") == "Some sentence the GUI has never seen."
    assert i18n.grade_title(2) == "KL2 (минимальные)"
    window.set_language("en")
    assert i18n.core_message(empty) == "The file is empty."
    assert i18n.core_message(small) == "The image is 32×32 pixels; at least 64×64 is needed."
    assert i18n.grade_title(2) == "KL2 (minimal)"


@pytest.mark.parametrize("lang, saved, title", [("ru_RU.UTF-8", "", "&Файл"), ("en_US.UTF-8", "", "&File"),
                                                 ("ru_RU.UTF-8", "en", "&File")])
def test_the_system_locale_is_followed_unless_a_language_was_chosen(tmp_path, lang, saved, title):
    """A fresh process: no TensorFlow before the window is up, and the menu in the right language."""
    script = textwrap.dedent(f"""
        import sys
        from PySide6.QtCore import QSettings
        from kneeoa_desktop.gui.app import launch
        from kneeoa_desktop.gui.settings import Settings
        settings = Settings(QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat))
        settings.language = {saved!r}
        app, window, _ = launch([], settings=settings)
        print("TF", "tensorflow" in sys.modules)
        print("TITLE", window.file_menu.title())
        window.close()
    """)
    env = dict(os.environ, LANG=lang, LC_ALL=lang, LANGUAGE="", QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                         cwd=str(i18n.translations_dir().parents[1]))
    assert out.returncode == 0, out.stderr
    assert "TF False" in out.stdout
    assert f"TITLE {title}" in out.stdout


def test_worker_errors_reach_the_window_translated_with_their_values(qtbot, make_window, tmp_path, knee_png):
    """The worker's signals carry the sentence's template and values across threads, so the
    window shows a model failure and a grading failure in Russian with their values in place."""
    def broken():
        raise ModelError(QT_TRANSLATE_NOOP("CoreMessages", "The model file {0} is missing from {1}."),
                         "m.keras", "/nowhere")

    window = make_window(factory=broken, start=False)
    window.set_language("ru")
    with qtbot.waitSignal(window.error_shown, timeout=10_000) as shown:
        window.start()
    assert shown.args[0] == "Файл модели m.keras отсутствует в /nowhere."
    assert window.model_label.toolTip() == "Файл модели m.keras отсутствует в /nowhere."

    window = make_window()
    window.set_language("ru")
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), np.zeros((32, 40), np.uint8))
    with qtbot.waitSignal(window.error_shown, timeout=10_000) as shown:
        window.open_path(tiny)
    assert shown.args[0] == "Размер изображения — 40×32 пикс.; требуется не менее 64×64."
