"""Recognise an image format by its content and read its pixel size from the header.

Knowing the size before decoding lets the loader refuse a decompression bomb (a tiny file
that claims 60000×60000 pixels) without allocating anything.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG, JPEG, BMP, TIFF, DICOM = "PNG", "JPEG", "BMP", "TIFF", "DICOM"


@dataclass(frozen=True)
class HeaderInfo:
    format: str
    width: int | None = None  # None when the header does not say (for DICOM, pydicom will)
    height: int | None = None


def sniff_format(data: bytes) -> str | None:
    """Return the format name for these bytes, or None if we do not read it."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"BM") and len(data) >= 26:
        return BMP
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if len(data) >= 132 and data[128:132] == b"DICM":
        return DICOM
    # A DICOM stream without the 128-byte preamble starts with a group 0x0002 or 0x0008 tag.
    if len(data) >= 8 and data[:2] in (b"\x02\x00", b"\x08\x00") and data[2:4] in (
        b"\x00\x00", b"\x01\x00", b"\x05\x00", b"\x08\x00", b"\x10\x00", b"\x16\x00", b"\x18\x00",
    ):
        return DICOM
    return None


def read_header(data: bytes) -> HeaderInfo | None:
    """Sniff the format and, where the header is simple, the pixel size."""
    fmt = sniff_format(data)
    if fmt is None:
        return None
    try:
        size = _SIZE_READERS.get(fmt, lambda _d: None)(data)
    except (struct.error, IndexError, ValueError):
        size = None
    if size is None:
        return HeaderInfo(fmt)
    return HeaderInfo(fmt, *size)


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# JPEG start-of-frame markers that carry the image size (all SOFn except DHT/JPG/DAC).
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Walk the markers the way libjpeg does: it skips stray bytes before a marker (with a
    # "Corrupt JPEG data" warning) and still decodes, so a strict walk here would let one
    # inserted byte hide a 30000×30000 frame header from the size check.
    pos = 2
    end = len(data)
    while pos < end:
        while pos < end and data[pos] != 0xFF:  # garbage before the marker
            pos += 1
        while pos < end and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= end:
            return None
        marker = data[pos]
        pos += 1
        if marker in (0x00, 0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue  # no length field (0x00 is a stuffed byte: garbage to libjpeg too)
        if marker in (0xD9, 0xDA):
            return None  # end of image or start of scan before any frame header
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if marker in _SOF_MARKERS:
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])
            return width, height
        if length < 2:
            return None
        pos += length
    return None


def _bmp_size(data: bytes) -> tuple[int, int] | None:
    (header_size,) = struct.unpack("<I", data[14:18])
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack("<HH", data[18:22])
    else:
        width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    endian = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(endian + "I", data[4:8])
    (count,) = struct.unpack(endian + "H", data[ifd:ifd + 2])
    width = height = None
    for i in range(count):  # all of them: libtiff reads every entry too
        entry = data[ifd + 2 + 12 * i: ifd + 14 + 12 * i]
        tag, typ = struct.unpack(endian + "HH", entry[:4])
        if tag not in (256, 257):
            continue
        if typ == 3:  # SHORT
            (value,) = struct.unpack(endian + "H", entry[8:10])
        elif typ == 4:  # LONG
            (value,) = struct.unpack(endian + "I", entry[8:12])
        else:
            return None  # another type: the loader refuses rather than trust the decoder's reading
        # libtiff ignores a repeated tag, so the first one is the size it would decode.
        if tag == 256 and width is None:
            width = value
        elif tag == 257 and height is None:
            height = value
    if width is None or height is None:
        return None
    return width, height


_SIZE_READERS = {PNG: _png_size, JPEG: _jpeg_size, BMP: _bmp_size, TIFF: _tiff_size}

#: File name suffixes offered in file dialogs and walked in directories.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".dicom")
