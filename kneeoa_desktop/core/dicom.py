"""Decode a DICOM radiograph with pydicom: modality and VOI LUT, MONOCHROME1, BitsStored.

Compressed pixel data decodes where a decoder is installed (pylibjpeg with its libjpeg and
openjpeg plugins covers JPEG baseline/extended/lossless, JPEG-LS and JPEG 2000; RLE and
deflate are native to pydicom). Patient identifiers are returned apart from the metadata.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from .errors import CorruptImageError, UnsupportedFormatError
from .imaging import check_dimensions, rescale_to_uint16, to_gray

_PATIENT_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")
_SAFE_KEYWORDS = ("Modality", "BodyPartExamined", "Laterality", "ImageLaterality",
                  "ViewPosition", "StudyDate", "Manufacturer", "PhotometricInterpretation")


def decode_dicom(data: bytes) -> tuple[np.ndarray, int, dict, dict]:
    """Return (pixels uint16, bits stored, safe metadata, patient identifiers)."""
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(io.BytesIO(data), force=True)
    except Exception as exc:  # pydicom raises many exception types for malformed input
        raise CorruptImageError("The DICOM file is damaged and cannot be read.") from exc

    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise UnsupportedFormatError("The DICOM file holds no image (no pixel data).")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        bits_stored = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16)
    except (AttributeError, TypeError, ValueError) as exc:
        raise CorruptImageError("The DICOM file lacks a valid image size.") from exc
    check_dimensions(cols, rows)
    if frames < 1 or frames * rows * cols * samples > 4 * 100_000_000:
        raise CorruptImageError("The DICOM file announces an implausible number of frames.")

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
        name = getattr(syntax, "name", None) or "this"
        raise UnsupportedFormatError(
            f"The DICOM pixel data uses the {name} compression, which cannot be decoded here."
        ) from exc
    except Exception as exc:  # pydicom raises many types for damaged pixel data
        raise CorruptImageError("The DICOM pixel data is damaged and cannot be decoded.") from exc

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
        raise CorruptImageError("The DICOM image has an unsupported pixel layout.")

    metadata = {"transfer_syntax": str(getattr(ds.file_meta, "TransferSyntaxUID", "")),
                "voi_applied": bool(has_voi)}
    for keyword in _SAFE_KEYWORDS:
        value = ds.get(keyword)
        if value not in (None, ""):
            metadata[keyword] = str(value)
    patient = {k: str(ds.get(k)) for k in _PATIENT_KEYWORDS if ds.get(k) not in (None, "")}
    return pixels, bits, metadata, patient
