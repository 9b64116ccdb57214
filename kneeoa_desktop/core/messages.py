"""Sentences a user may read, kept as a template and its values until someone shows them.

The core speaks English. An error with something in it (a file name, a size) is raised as
``ExportError(QT_TRANSLATE_NOOP("CoreMessages", "The folder {0} does not exist."), folder)``:
``str(error)`` is the English sentence (what the CLI prints and the log records), a ``Message``
that still knows its template and values; the GUI translates the template with
``QCoreApplication.translate("CoreMessages", template)`` and then fills in the values
(``gui/i18n.core_message``), so nobody parses an English sentence back.

``QT_TRANSLATE_NOOP`` only marks a template for Qt's ``pyside6-lupdate``, which finds calls by
that name in any Python file it is given (the README's command reads ``core/*.py`` as well as
``gui/*.py``); the context is always the literal "CoreMessages", since lupdate reads literals
only. lupdate also takes a ``#:`` comment as a note for the translator of the next marked
sentence in the file, so files with marked sentences use plain ``#`` comments before them.
Nothing here imports Qt.
"""

from __future__ import annotations

# The Qt translation context of every core sentence.
CONTEXT = "CoreMessages"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802  (the name lupdate looks for)
    """Mark ``text`` for translation in ``context``; returns ``text`` unchanged."""
    return text


class Message(str):
    """An English sentence that remembers its template and values; otherwise the str it is.

    ``clause``: the sentence is quoted inside another one, without its full stop.
    """

    template: str
    values: tuple
    clause: bool

    def __new__(cls, template: str, *values, clause: bool = False) -> "Message":
        text = template.format(*values) if values else template
        if clause:
            text = text.removesuffix(".")
        self = super().__new__(cls, text)
        self.template, self.values, self.clause = template, values, clause
        return self

    def as_clause(self) -> "Message":
        """This sentence without its full stop, to be quoted inside another one."""
        return Message(self.template, *self.values, clause=True)
