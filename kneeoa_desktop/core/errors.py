"""Typed errors the user can cause; each carries one human sentence as its message.

Front doors (CLI, GUI) show ``str(error)`` and nothing else; tracebacks are for developers.
"""


class KneeOAError(Exception):
    """Base class: anything a user can cause, with a one-sentence explanation."""


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
    """The annotated image could not be written."""


class DownloadError(KneeOAError):
    """A model download failed; the model in use is unchanged."""


class DownloadCancelledError(DownloadError):
    """The user cancelled a model download."""
