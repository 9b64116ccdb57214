"""Loading: formats by content, odd-but-valid files, and every broken input as a typed error."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from kneeoa_desktop.core import errors
from kneeoa_desktop.core.film.formats import read_header, sniff_format
from kneeoa_desktop.core.film.imaging import MAX_PIXELS, decode_image, load_image
from kneeoa_desktop.core.knees.preprocess import preprocess

from . import samples


def test_plain_png(knee_png, knee_pixels):
    image = load_image(knee_png)
    assert image.format == "PNG" and image.bit_depth == 8
    assert image.pixels.dtype == np.uint8
    np.testing.assert_array_equal(image.pixels, knee_pixels)


@pytest.mark.parametrize("maker,fmt", [
    (samples.write_png16, "PNG"),
    (samples.write_tiff16, "TIFF"),
])
def test_16_bit_gives_the_same_network_input(tmp_path, knee_pixels, maker, fmt):
    suffix = ".png" if fmt == "PNG" else ".tif"
    image = load_image(maker(knee_pixels, tmp_path / f"knee16{suffix}"))
    assert image.format == fmt and image.bit_depth == 16 and image.pixels.dtype == np.uint16
    np.testing.assert_array_equal(preprocess(image.pixels), preprocess(knee_pixels))


def test_rgba_and_bmp_and_png_named_jpg(tmp_path, knee_png, knee_pixels):
    rgba = load_image(samples.write_rgba(knee_pixels, tmp_path / "knee_rgba.png"))
    np.testing.assert_array_equal(rgba.pixels, knee_pixels)
    bmp = tmp_path / "knee.bmp"
    cv2.imwrite(str(bmp), cv2.cvtColor(knee_pixels, cv2.COLOR_GRAY2BGR))
    np.testing.assert_array_equal(load_image(bmp).pixels, knee_pixels)
    disguised = tmp_path / "really_a_png.jpg"
    disguised.write_bytes(knee_png.read_bytes())
    image = load_image(disguised)
    assert image.format == "PNG"
    np.testing.assert_array_equal(image.pixels, knee_pixels)


def test_jpeg_is_close(tmp_path, knee_pixels):
    image = load_image(samples.write_jpeg(knee_pixels, tmp_path / "knee.jpg"))
    assert image.format == "JPEG"
    assert np.abs(image.pixels.astype(int) - knee_pixels).mean() < 2.0


def test_non_ascii_path(tmp_path, knee_png, knee_pixels):
    folder = tmp_path / "снимки колена"
    folder.mkdir()
    path = folder / "колено_левое é.png"
    path.write_bytes(knee_png.read_bytes())
    np.testing.assert_array_equal(load_image(path).pixels, knee_pixels)
    assert load_image(path).source_name == "колено_левое é.png"


@pytest.mark.parametrize("monochrome1", [False, True])
def test_dicom_12_bit(tmp_path, knee_pixels, monochrome1):
    path = samples.write_dicom(knee_pixels, tmp_path / "knee.dcm", monochrome1=monochrome1, bits=12)
    image = load_image(path)
    assert image.format == "DICOM" and image.bit_depth == 12
    # MONOCHROME1 is inverted back, so bone stays bright and the network input is identical.
    np.testing.assert_array_equal(preprocess(image.pixels), preprocess(knee_pixels))
    assert image.patient["PatientName"] == "Doe^Jane"
    assert "Doe" not in repr(image.metadata)


def test_dicom_without_extension_or_preamble(tmp_path, knee_pixels):
    path = samples.write_dicom(knee_pixels, tmp_path / "IM0001")
    assert load_image(path).format == "DICOM"
    bare = tmp_path / "IM0002"
    bare.write_bytes(path.read_bytes()[132:])  # no 128-byte preamble, no "DICM"
    image = load_image(bare)
    assert image.format == "DICOM"
    np.testing.assert_array_equal(preprocess(image.pixels), preprocess(knee_pixels))


def test_dicom_window_is_applied(tmp_path, knee_pixels):
    # A narrow window on the upper half of the range saturates everything below it to black.
    path = samples.write_dicom(knee_pixels, tmp_path / "w.dcm", bits=12, window=(3000, 1000))
    image = load_image(path)
    assert image.metadata["voi_applied"] is True
    dark = knee_pixels.astype(float) * 4095 / 255 < 2500
    assert image.pixels[dark].max() == image.pixels.min()


@pytest.mark.parametrize("syntax", ["RLELossless", "JPEG2000Lossless", "JPEGLSLossless"])
def test_compressed_dicom(tmp_path, knee_pixels, syntax):
    import pydicom.uid

    uid = getattr(pydicom.uid, syntax)
    try:
        path = samples.write_dicom(knee_pixels, tmp_path / "c.dcm", compress=uid)
    except (RuntimeError, NotImplementedError, ValueError) as exc:
        pytest.skip(f"no encoder for {syntax} here ({exc})")
    image = load_image(path)
    np.testing.assert_array_equal(preprocess(image.pixels), preprocess(knee_pixels))


def test_jpeg_baseline_dicom(tmp_path, knee_pixels):
    image = load_image(samples.write_dicom(knee_pixels, tmp_path / "j.dcm", compress="JPEGBaseline8Bit"))
    assert image.format == "DICOM"
    # Lossy, so close rather than equal; DICOM values are stretched, so compare network inputs.
    assert np.abs(preprocess(image.pixels) - preprocess(knee_pixels)).mean() < 0.02


def test_dicom_with_unsupported_compression_is_one_sentence(tmp_path, knee_pixels):
    import pydicom

    path = samples.write_dicom(knee_pixels, tmp_path / "x.dcm")
    from pydicom.encaps import encapsulate

    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG-2: no decoder exists
    ds.PixelData = encapsulate([b"\0" * 1000])
    ds["PixelData"].VR = "OB"
    ds.save_as(path)
    with pytest.raises(errors.ImageLoadError) as info:
        load_image(path)
    assert "\n" not in str(info.value)
    # The compression's registered name is a value of the sentence, not part of its template.
    assert str(info.value) == (f"The DICOM pixel data uses the {info.value.values[0]} compression, "
                               "which cannot be decoded here.")
    assert "MPEG2" in info.value.values[0] and "MPEG2" not in info.value.template


@pytest.mark.parametrize("kind,error", [
    ("empty", errors.UnsupportedFormatError),
    ("truncated_png", errors.CorruptImageError),
    ("random_bytes", errors.UnsupportedFormatError),
    ("text", errors.UnsupportedFormatError),
    ("html_as_jpg", errors.UnsupportedFormatError),
    ("huge_header", errors.ImageTooLargeError),
    ("tiny_image", errors.ImageTooSmallError),
    ("directory", errors.ImageLoadError),
])
def test_bad_inputs_raise_typed_errors_with_one_sentence(tmp_path, knee_png, kind, error):
    path = samples.bad_files(tmp_path, knee_png)[kind]
    with pytest.raises(error) as info:
        load_image(path)
    message = str(info.value)
    assert message.endswith(".") and "\n" not in message and 10 < len(message) < 200


def test_missing_file(tmp_path):
    with pytest.raises(errors.ImageLoadError, match="does not exist"):
        load_image(tmp_path / "nope.png")


def test_bomb_is_refused_before_decoding():
    header = read_header(samples.png_claiming_size(60000, 60000))
    assert (header.format, header.width, header.height) == ("PNG", 60000, 60000)
    assert 60000 * 60000 > MAX_PIXELS
    with pytest.raises(errors.ImageTooLargeError, match="megapixels"):
        decode_image(samples.png_claiming_size(60000, 60000))


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".tif"])
def test_header_sizes_match_decoder(tmp_path, knee_pixels, ext):
    img = cv2.resize(knee_pixels, (300, 200))
    ok, data = cv2.imencode(ext, img)
    header = read_header(data.tobytes())
    assert (header.width, header.height) == (300, 200)


def test_sniffing_ignores_extension():
    assert sniff_format(b"<html>") is None
    assert sniff_format(b"\xff\xd8\xff\xe0") == "JPEG"


def test_crop_for_region_of_interest(knee_png):
    image = load_image(knee_png)
    crop = image.crop(10, 20, 100, 100)
    assert crop.pixels.shape == (100, 100)
    assert crop.metadata["roi"] == (10, 20, 100, 100)
    with pytest.raises(errors.ImageTooSmallError):
        image.crop(200, 200, 100, 100)  # clamped to 24×24


def test_core_imports_neither_qt_nor_tensorflow():
    code = ("import sys, kneeoa_desktop.core, kneeoa_desktop.cli; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'tensorflow', 'keras')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
