"""Typed errors the user can cause; each carries a message template and its values.

``str(error)`` is the English sentence (a ``messages.Message``), and front doors show that and
nothing else; tracebacks are for developers. A GUI translates ``error.template`` and fills in
``error.values`` (see ``messages``); templates are marked with ``messages.QT_TRANSLATE_NOOP``.
"""

from __future__ import annotations

from .messages import Message


class KneeOAError(Exception):
    """Base class: anything a user can cause, with a one-sentence explanation.

    ``KneeOAError(template, *values)``, or ``KneeOAError(message)`` to raise another error's
    ``Message`` again (its template and values are kept).
    """

    def __init__(self, template: str, *values):
        if isinstance(template, Message) and not values:
            message = template
        else:
            message = Message(template, *values)
        super().__init__(message)
        self.message = message

    @property
    def template(self) -> str:
        return self.message.template

    @property
    def values(self) -> tuple:
        return self.message.values

    def __str__(self) -> str:
        return self.message


class ImageLoadError(KneeOAError):
    """The file could not be read as a radiograph."""


class UnsupportedFormatError(ImageLoadError):
    """The content is not an image format we read."""


class ImageTooLargeError(ImageLoadError):
    """The header announces more pixels than we are willing to decode."""


class ImageTooSmallError(ImageLoadError):
    """The image is smaller than the minimum size we can grade."""


class CorruptImageError(ImageLoadError):
    """The content looks like a known format but does not decode."""


class ModelError(KneeOAError):
    """The model or its manifest is missing, damaged, or does not match."""


class ExportError(KneeOAError):
    """A file could not be written (the annotated image, a CSV, a manifest, the model pointer)."""


class DownloadError(KneeOAError):
    """A model download failed; the model in use is unchanged."""


class DownloadCancelledError(DownloadError):
    """The user cancelled a model download."""
