"""Decode a DICOM radiograph with pydicom: modality and VOI LUT, MONOCHROME1, BitsStored.

Compressed pixel data decodes where a decoder is installed (pylibjpeg with its libjpeg and
openjpeg plugins covers JPEG baseline/extended/lossless, JPEG-LS and JPEG 2000; RLE and
deflate are native to pydicom). Patient identifiers are returned apart from the metadata.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from ..errors import CorruptImageError, UnsupportedFormatError
from ..messages import QT_TRANSLATE_NOOP
from .pixels import check_dimensions, rescale_to_uint16, to_gray

_PATIENT_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")
_SAFE_KEYWORDS = ("Modality", "BodyPartExamined", "Laterality", "ImageLaterality",
                  "ViewPosition", "StudyDate", "Manufacturer", "PhotometricInterpretation",
                  "PixelSpacing", "ImagerPixelSpacing")
_DAMAGED_PIXELS = QT_TRANSLATE_NOOP("CoreMessages", "The DICOM pixel data is damaged and cannot be decoded.")


def decode_dicom(data: bytes) -> tuple[np.ndarray, int, dict, dict]:
    """Return (pixels uint16, bits stored, safe metadata, patient identifiers)."""
    # pydicom warns about each odd value when an element is first read, which happens anywhere
    # below (elements are parsed lazily): the user gets our one sentence, not Python warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _decode_dicom(data)


def _decode_dicom(data: bytes) -> tuple[np.ndarray, int, dict, dict]:
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(io.BytesIO(data), force=True)
    except Exception as exc:  # pydicom raises many exception types for malformed input
        raise CorruptImageError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The DICOM file is damaged and cannot be read.")) from exc

    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise UnsupportedFormatError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The DICOM file holds no image (no pixel data)."))
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        bits_stored = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16)
    except Exception as exc:  # elements are parsed lazily, here: an unknown VR raises NotImplementedError
        raise CorruptImageError(QT_TRANSLATE_NOOP("CoreMessages", "The DICOM file lacks a valid image size.")) from exc
    check_dimensions(cols, rows)
    if frames < 1 or frames * rows * cols * samples > 4 * 100_000_000:
        raise CorruptImageError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The DICOM file announces an implausible number of frames."))

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pixels = ds.pixel_array
            if frames > 1:
                pixels = pixels[0]  # a radiograph series: grade the first frame
            photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
            if samples == 1:
                from pydicom.pixels import apply_modality_lut, apply_voi_lut

                pixels = apply_modality_lut(pixels, ds)
                has_voi = "VOILUTSequence" in ds or "WindowCenter" in ds
                if has_voi:
                    pixels = apply_voi_lut(pixels, ds)
            else:
                has_voi = False
    except (RuntimeError, NotImplementedError) as exc:
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        if _decoder_available(syntax):  # a decoder exists and failed: the data is damaged
            raise CorruptImageError(_DAMAGED_PIXELS) from exc
        # Only a registered name goes into the sentence: an unknown UID is file text, which may
        # hold anything (a line break included).
        known = getattr(syntax, "is_transfer_syntax", False) and syntax.name != str(syntax)
        if known:
            raise UnsupportedFormatError(QT_TRANSLATE_NOOP(
                "CoreMessages", "The DICOM pixel data uses the {0} compression, which cannot be decoded here."),
                syntax.name) from exc
        raise UnsupportedFormatError(QT_TRANSLATE_NOOP(
            "CoreMessages", "The DICOM pixel data uses an unknown compression, which cannot be decoded here.")) from exc
    except Exception as exc:  # pydicom raises many types for damaged pixel data
        raise CorruptImageError(_DAMAGED_PIXELS) from exc

    pixels = np.asarray(pixels)
    if samples == 1:
        pixels = rescale_to_uint16(pixels)
        if photometric == "MONOCHROME1":  # MONOCHROME1: low values are bright
            pixels = 65535 - pixels
        bits = bits_stored
    else:
        if photometric.startswith("YBR"):
            from pydicom.pixels import convert_color_space

            pixels = convert_color_space(pixels, photometric, "RGB")
        pixels, bits = to_gray(np.ascontiguousarray(pixels[..., ::-1]))  # RGB → BGR for OpenCV
    if pixels.ndim != 2:
        raise CorruptImageError(QT_TRANSLATE_NOOP("CoreMessages", "The DICOM image has an unsupported pixel layout."))

    metadata = {"transfer_syntax": _text(getattr(ds, "file_meta", None), "TransferSyntaxUID") or "",
                "voi_applied": bool(has_voi)}
    for keyword in _SAFE_KEYWORDS:
        if text := _text(ds, keyword):
            metadata[keyword] = text
    patient = {k: text for k in _PATIENT_KEYWORDS if (text := _text(ds, k))}
    return pixels, bits, metadata, patient


def _text(ds, keyword: str) -> str | None:
    """One element as text; None when absent, empty or unreadable. pydicom parses elements on
    first access, so a damaged descriptive element (an unknown VR, say) raises only here, and
    it must not keep a readable image from loading."""
    try:
        value = ds.get(keyword) if ds is not None else None
        return None if value is None or str(value) == "" else str(value)
    except Exception:
        return None


def _decoder_available(syntax) -> bool:
    """True when pydicom has a working decoder for this transfer syntax."""
    try:
        from pydicom.pixels import get_decoder

        return bool(get_decoder(syntax).is_available)
    except Exception:  # no decoder is registered for it (or the UID is not one)
        return False
