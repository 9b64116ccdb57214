"""Load a radiograph from a file into a gray pixel array plus safe metadata.

Formats are recognised by content (see ``formats``), never by extension. Files are read as
bytes and decoded in memory, so non-ASCII paths work everywhere. Every failure raises an
``ImageLoadError`` subclass whose message is one sentence a clinician can act on.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from . import formats
from .errors import (
    CorruptImageError,
    ImageLoadError,
    ImageTooLargeError,
    ImageTooSmallError,
    UnsupportedFormatError,
)

#: Refuse anything above this many pixels before decoding it (a 100-megapixel radiograph
#: is already far beyond any real detector).
MAX_PIXELS = 100_000_000
#: Below this, a knee joint cannot be graded.
MIN_SIDE = 64
#: Refuse files above this size before reading them (the largest legitimate DICOM is far smaller).
MAX_FILE_BYTES = 1 << 30

try:  # OpenCV would otherwise print decoder warnings on stderr for damaged files.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
except AttributeError:  # pragma: no cover - very old OpenCV
    pass


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
            raise ImageTooSmallError(
                f"The selected region must be at least {MIN_SIDE}×{MIN_SIDE} pixels inside the image."
            )
        meta = dict(self.metadata, roi=(x0, y0, x1 - x0, y1 - y0))
        return LoadedImage(self.pixels[y0:y1, x0:x1].copy(), self.source_name, self.format,
                           self.bit_depth, meta, dict(self.patient))


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    lo, hi = int(pixels.min()), int(pixels.max())
    if hi <= lo:
        return np.zeros(pixels.shape, np.uint8)
    scaled = (pixels.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def load_image(path: str | os.PathLike) -> LoadedImage:
    """Read and decode the radiograph at ``path``."""
    path = Path(path)
    name = path.name
    if path.is_dir():
        raise ImageLoadError("This is a folder, not an image file.")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageTooLargeError("The file is larger than 1 GB, which is not a plausible radiograph.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageLoadError("The file does not exist.") from None
    except PermissionError:
        raise ImageLoadError("The file cannot be read: permission denied.") from None
    except IsADirectoryError:
        raise ImageLoadError("This is a folder, not an image file.") from None
    except OSError as exc:
        raise ImageLoadError(f"The file cannot be read ({exc.strerror or exc}).") from None
    return decode_image(data, name)


def decode_image(data: bytes, source_name: str = "image") -> LoadedImage:
    """Decode image bytes held in memory."""
    if not data:
        raise UnsupportedFormatError("The file is empty.")
    header = formats.read_header(data)
    if header is None:
        raise UnsupportedFormatError(
            "This is not a supported image (PNG, JPEG, BMP, TIFF or DICOM)."
        )
    if header.width is not None and header.height is not None:
        check_dimensions(header.width, header.height)
    elif header.format != formats.DICOM:
        # The raster decoders would find a size where our header reader did not, and could then
        # allocate gigabytes for a tiny file: a size we cannot check is a damaged header.
        raise CorruptImageError(f"The {header.format} file is damaged or truncated: its image size cannot be read.")
    if header.format == formats.DICOM:
        from .dicom import decode_dicom  # pydicom is imported only when needed

        pixels, bits, metadata, patient = decode_dicom(data)
        if patient:  # keep them out of the developer's log, whatever a later message quotes
            from .logs import redact

            redact(*patient.values())
    else:
        pixels, bits = _decode_raster(data, header.format)
        metadata, patient = {}, {}
    check_dimensions(pixels.shape[1], pixels.shape[0])
    return LoadedImage(pixels, source_name, header.format, bits, metadata, patient)


def check_dimensions(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise CorruptImageError("The image header gives an invalid size.")
    if width * height > MAX_PIXELS:
        raise ImageTooLargeError(
            f"The image is {width}×{height} pixels, more than the {MAX_PIXELS // 1_000_000} "
            "megapixels this program accepts."
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageTooSmallError(
            f"The image is {width}×{height} pixels; at least {MIN_SIDE}×{MIN_SIDE} is needed."
        )


def _decode_raster(data: bytes, fmt: str) -> tuple[np.ndarray, int]:
    buffer = np.frombuffer(data, np.uint8)
    try:
        with _native_stderr_silenced():
            decoded = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    except cv2.error:
        decoded = None
    if decoded is None or decoded.size == 0:
        raise CorruptImageError(f"The {fmt} file is damaged or truncated and cannot be decoded.")
    return to_gray(decoded)


_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _native_stderr_silenced():
    """Point file descriptor 2 at the null device for the duration of a decode.

    libpng and libjpeg print their complaints about a damaged file ("libpng error: IDAT: CRC
    error", "Corrupt JPEG data: …") straight to descriptor 2, beneath OpenCV's log level, which
    would add lines to the one sentence a user gets on stderr. The cost: another thread's stderr
    output is lost for the milliseconds of a decode (the program logs to a file, not stderr).
    """
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):  # no usable sys.stderr (a windowed program)
            pass
        try:
            saved = os.dup(2)
        except OSError:  # no descriptor 2 at all: nothing to silence
            saved = None
        if saved is not None:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)
            os.close(null)
        try:
            yield
        finally:
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)


def to_gray(decoded: np.ndarray) -> tuple[np.ndarray, int]:
    """Reduce any decoded raster to one gray channel of uint8 or uint16; return (pixels, bits)."""
    if decoded.ndim == 3 and decoded.shape[2] == 1:
        decoded = decoded[:, :, 0]
    if decoded.ndim == 3:
        channels = decoded.shape[2]
        if channels == 4:
            decoded = decoded[:, :, :3]  # radiographs carry no meaning in alpha
        elif channels != 3:
            raise CorruptImageError(f"Images with {channels} channels are not supported.")
        if decoded.dtype not in (np.uint8, np.uint16):
            decoded = rescale_to_uint16(decoded)
        # OpenCV decodes colour as BGR; its luminance weights reproduce the gray exactly
        # when the three channels are equal.
        decoded = cv2.cvtColor(np.ascontiguousarray(decoded), cv2.COLOR_BGR2GRAY)
    elif decoded.ndim != 2:
        raise CorruptImageError("The image has an unsupported pixel layout.")
    if decoded.dtype == np.uint8:
        return decoded, 8
    if decoded.dtype == np.uint16:
        return decoded, 16
    return rescale_to_uint16(decoded), 16


def rescale_to_uint16(values: np.ndarray) -> np.ndarray:
    """Map signed or floating-point data linearly onto uint16, keeping the order of values."""
    values = values.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        raise CorruptImageError("The image holds no valid pixel values.")
    lo, hi = values[finite].min(), values[finite].max()
    values = np.where(finite, values, lo)
    if hi <= lo:
        return np.zeros(values.shape, np.uint16)
    return np.round((values - lo) * (65535.0 / (hi - lo))).astype(np.uint16)
