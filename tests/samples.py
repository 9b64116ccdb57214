"""Build odd-but-valid and broken files from one 8-bit radiograph, for loader and CLI tests."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np


def write_png16(pixels: np.ndarray, path: Path) -> Path:
    cv2.imwrite(str(path), pixels.astype(np.uint16) * 257)
    return path


def write_tiff16(pixels: np.ndarray, path: Path) -> Path:
    cv2.imwrite(str(path), pixels.astype(np.uint16) * 257)
    return path


def write_rgba(pixels: np.ndarray, path: Path) -> Path:
    bgra = cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGRA)
    cv2.imwrite(str(path), bgra)
    return path


def write_jpeg(pixels: np.ndarray, path: Path, quality: int = 97) -> Path:
    ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    path.write_bytes(data.tobytes())
    return path


def write_dicom(pixels: np.ndarray, path: Path, *, monochrome1: bool = False, bits: int = 12,
                window: tuple[float, float] | None = None, compress: str | None = None,
                patient_name: str = "Doe^Jane", patient_id: str = "PID-12345") -> Path:
    """A DICOM DX image whose stored values are the 8-bit pixels scaled into ``bits`` bits."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    scale = (2 ** bits - 1) / 255.0
    values = np.rint(pixels.astype(np.float64) * scale).astype(np.uint16)
    if monochrome1:
        values = (2 ** bits - 1) - values
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19600101"
    ds.Rows, ds.Columns = values.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1" if monochrome1 else "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    ds.PixelData = values.tobytes()
    if compress == "JPEGBaseline8Bit":
        # pydicom has no baseline-JPEG encoder: encapsulate OpenCV's JPEG of the 8-bit image.
        from pydicom.encaps import encapsulate
        from pydicom.uid import JPEGBaseline8Bit

        ok, jpeg = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 97])
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
        ds.PixelData = encapsulate([jpeg.tobytes()])
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    elif compress is not None:
        ds.compress(compress)
    ds.save_as(str(path), enforce_file_format=True)
    return path


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header announces width×height (a decompression bomb's header)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


def bad_files(folder: Path, knee_png: Path) -> dict[str, Path]:
    """Each broken input the program must refuse with one sentence."""
    folder.mkdir(parents=True, exist_ok=True)
    data = knee_png.read_bytes()
    files = {
        "empty": folder / "empty.png",
        "truncated_png": folder / "truncated.png",
        "random_bytes": folder / "random.png",
        "text": folder / "notes.txt",
        "html_as_jpg": folder / "page.jpg",
        "huge_header": folder / "bomb.png",
        "tiny_image": folder / "tiny.png",
    }
    files["empty"].write_bytes(b"")
    files["truncated_png"].write_bytes(data[: len(data) // 2])
    files["random_bytes"].write_bytes(np.random.default_rng(7).bytes(5000))
    files["text"].write_text("KL grade notes\nnothing to see\n")
    files["html_as_jpg"].write_text("<!DOCTYPE html><html><body>Not an image</body></html>")
    files["huge_header"].write_bytes(png_claiming_size(60000, 60000))
    cv2.imwrite(str(files["tiny_image"]), np.zeros((32, 32), np.uint8))
    directory = folder / "a_folder.png"
    directory.mkdir(exist_ok=True)
    files["directory"] = directory
    return files


# --- Fuzzing helpers (tests/test_fuzz.py, scripts/fuzz_atheris.py) -----------------------------

def synthetic_knee(size: int = 96, seed: int = 0) -> np.ndarray:
    """A small radiograph-like gray image: two bones and a joint space, with noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    img = 60 + 40 * np.exp(-((x - 0.5) ** 2) / 0.05)
    img += 120 * ((y < 0.45) | (y > 0.55)) * np.exp(-((x - 0.5) ** 2) / 0.04)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def seed_images(folder: Path, pixels: np.ndarray | None = None) -> dict[str, Path]:
    """One small valid file per format and pixel layout the loader reads: the fuzzers' seeds.

    Small (about 96×80) so that a fuzzer spends its time in parsers, not in pixel loops.
    Encoders missing on this machine (JPEG 2000, JPEG-LS) are skipped.
    """
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    if pixels is None:
        pixels = synthetic_knee(96)[:80]
    files: dict[str, Path] = {}

    def encoded(name: str, ext: str, array: np.ndarray, params=()) -> None:
        ok, data = cv2.imencode(ext, array, list(params))
        if ok:
            (folder / name).write_bytes(data.tobytes())
            files[name] = folder / name

    encoded("gray8.png", ".png", pixels)
    encoded("gray16.png", ".png", pixels.astype(np.uint16) * 257)
    encoded("rgb48.png", ".png", cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR).astype(np.uint16) * 257)
    encoded("rgba.png", ".png", cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGRA))
    encoded("baseline.jpg", ".jpg", pixels, (cv2.IMWRITE_JPEG_QUALITY, 90))
    encoded("progressive.jpg", ".jpg", cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR),
            (cv2.IMWRITE_JPEG_PROGRESSIVE, 1))
    encoded("gray8.bmp", ".bmp", pixels)
    encoded("rgb.bmp", ".bmp", cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR))
    encoded("gray8.tif", ".tif", pixels)
    encoded("gray16.tif", ".tif", pixels.astype(np.uint16) * 257)
    encoded("float32.tif", ".tif", pixels.astype(np.float32) / 255.0)
    for name, mode in (("bilevel.png", "1"), ("palette.png", "P")):
        Image.fromarray(pixels).convert(mode).save(folder / name)
        files[name] = folder / name
    Image.fromarray(pixels).save(folder / "lzw.tif", compression="tiff_lzw")
    files["lzw.tif"] = folder / "lzw.tif"
    files["plain.dcm"] = write_dicom(pixels, folder / "plain.dcm")
    files["mono1_window.dcm"] = write_dicom(pixels, folder / "mono1_window.dcm", monochrome1=True,
                                            window=(2000, 3000))
    files["jpeg_baseline.dcm"] = write_dicom(pixels, folder / "jpeg_baseline.dcm",
                                             compress="JPEGBaseline8Bit")
    bare = folder / "no_preamble.dcm"
    bare.write_bytes(files["plain.dcm"].read_bytes()[132:])
    files["no_preamble.dcm"] = bare
    import pydicom.uid

    for syntax in ("RLELossless", "JPEG2000Lossless", "JPEGLSLossless"):
        path = folder / f"{syntax}.dcm"
        try:
            files[path.name] = write_dicom(pixels, path, compress=getattr(pydicom.uid, syntax))
        except Exception:  # no encoder for this syntax installed here
            path.unlink(missing_ok=True)
    return files


def check_decode_contract(data: bytes) -> str:
    """Decode ``data`` and check the loader's contract; return what happened.

    The outcome must be a sane ``LoadedImage`` ("ok") or a typed ``KneeOAError`` whose message
    is one sentence ("refused: <ErrorType>"). A broken contract raises AssertionError; any
    other exception propagates: both are findings.
    """
    from kneeoa_desktop.core.errors import KneeOAError
    from kneeoa_desktop.core.film.imaging import MAX_PIXELS, MIN_SIDE, LoadedImage, decode_image

    try:
        image = decode_image(data, "fuzz")
    except KneeOAError as exc:
        check_one_sentence(str(exc))
        return f"refused: {type(exc).__name__}"
    assert isinstance(image, LoadedImage)
    pixels = image.pixels
    assert isinstance(pixels, np.ndarray) and pixels.ndim == 2, pixels.shape
    assert pixels.dtype in (np.uint8, np.uint16), pixels.dtype
    height, width = pixels.shape
    assert MIN_SIDE <= height and MIN_SIDE <= width and height * width <= MAX_PIXELS, pixels.shape
    assert 1 <= image.bit_depth <= 32, image.bit_depth
    assert image.format in ("PNG", "JPEG", "BMP", "TIFF", "DICOM"), image.format
    return "ok"


def check_one_sentence(message: str) -> None:
    """A user-facing error: one non-empty line, no traceback, ending like a sentence."""
    assert message and message.strip() == message, repr(message)
    assert "\n" not in message and "\r" not in message, repr(message)
    assert "Traceback" not in message and 'File "' not in message, repr(message)
    assert len(message) <= 300 and message.endswith("."), repr(message)
