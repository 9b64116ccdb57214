"""Load a radiograph from a file into a gray pixel array plus safe metadata.

Formats are recognised by content (see ``formats``), never by extension. Files are read as
bytes and decoded in memory, so non-ASCII paths work everywhere. Every failure raises an
``ImageLoadError`` subclass whose message is one sentence a clinician can act on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CorruptImageError, ImageLoadError, ImageTooLargeError, ImageTooSmallError, UnsupportedFormatError
from ..logs import redact
from ..messages import QT_TRANSLATE_NOOP
from . import formats
from .dicom import decode_dicom  # pydicom itself is imported only when a DICOM file is decoded
# The limits and conversions live in ``pixels`` (shared with ``dicom``); re-exported for callers.
from .pixels import (MAX_FILE_BYTES, MAX_PIXELS, MIN_SIDE, check_dimensions, rescale_to_uint16, to_gray,  # noqa: F401
                     to_uint8)
from .raster import decode_raster

_FOLDER = QT_TRANSLATE_NOOP("CoreMessages", "This is a folder, not an image file.")

@dataclass
class LoadedImage:
    """A decoded radiograph.

    ``pixels`` is 2-D gray, uint8 or uint16, brighter = denser (MONOCHROME1 already inverted).
    ``patient`` holds DICOM patient identifiers and is kept apart from ``metadata`` so that
    nothing identifying reaches an export or a log unless the user asks for it.
    """

    pixels: np.ndarray
    source_name: str
    format: str
    bit_depth: int
    metadata: dict = field(default_factory=dict)
    patient: dict = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    def display_u8(self) -> np.ndarray:
        """An 8-bit version for display: 16-bit data is stretched over its actual range."""
        return to_uint8(self.pixels)

    def crop(self, x: int, y: int, size_w: int, size_h: int) -> "LoadedImage":
        """A region of interest (clamped to the image), e.g. one knee of a bilateral film."""
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(self.width, int(x) + int(size_w)), min(self.height, int(y) + int(size_h))
        if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
            raise ImageTooSmallError(QT_TRANSLATE_NOOP(
                "CoreMessages", "The selected region must be at least {0}×{0} pixels inside the image."), MIN_SIDE)
        meta = dict(self.metadata, roi=(x0, y0, x1 - x0, y1 - y0))
        return LoadedImage(self.pixels[y0:y1, x0:x1].copy(), self.source_name, self.format,
                           self.bit_depth, meta, dict(self.patient))


def load_image(path: str | os.PathLike) -> LoadedImage:
    """Read and decode the radiograph at ``path``."""
    path = Path(path)
    name = path.name
    if path.is_dir():
        raise ImageLoadError(_FOLDER)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageTooLargeError(QT_TRANSLATE_NOOP(
                "CoreMessages", "The file is larger than 1 GB, which is not a plausible radiograph."))
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageLoadError(QT_TRANSLATE_NOOP("CoreMessages", "The file does not exist.")) from None
    except PermissionError:
        raise ImageLoadError(QT_TRANSLATE_NOOP("CoreMessages", "The file cannot be read: permission denied.")) from None
    except IsADirectoryError:
        raise ImageLoadError(_FOLDER) from None
    except OSError as exc:
        raise ImageLoadError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The file cannot be read ({0})."), exc.strerror or exc) from None
    return decode_image(data, name)


def decode_image(data: bytes, source_name: str = "image") -> LoadedImage:
    """Decode image bytes held in memory."""
    if not data:
        raise UnsupportedFormatError(QT_TRANSLATE_NOOP("CoreMessages", "The file is empty."))
    header = formats.read_header(data)
    if header is None:
        raise UnsupportedFormatError(QT_TRANSLATE_NOOP(
            "CoreMessages", "This is not a supported image (PNG, JPEG, BMP, TIFF or DICOM)."))
    if header.width is not None and header.height is not None:
        check_dimensions(header.width, header.height)
    elif header.format != formats.DICOM:
        # The raster decoders would find a size where our header reader did not, and could then
        # allocate gigabytes for a tiny file: a size we cannot check is a damaged header.
        raise CorruptImageError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The {0} file is damaged or truncated: its image size cannot be read."), header.format)
    if header.format == formats.DICOM:
        pixels, bits, metadata, patient = decode_dicom(data)
        if patient:  # keep them out of the developer's log, whatever a later message quotes
            redact(*patient.values())
    else:
        pixels, bits = decode_raster(data, header.format)
        metadata, patient = {}, {}
    check_dimensions(pixels.shape[1], pixels.shape[0])
    return LoadedImage(pixels, source_name, header.format, bits, metadata, patient)
