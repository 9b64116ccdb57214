"""Fuzzing the loader and `kneeoa predict` with hypothesis: whatever the bytes, the outcome is a
sane image or one typed sentence, never another exception, a hang or a memory blow-up.

Inputs: random bytes; mutations (bit flips, cuts, inserted/deleted/duplicated runs, boundary
integers) of one small valid file per format and layout (``samples.seed_images``); and headers
rebuilt with absurd fields (PNG IHDR, JPEG SOF, BMP info header, TIFF IFD, DICOM image module).
The contract itself is ``samples.check_decode_contract``, shared with scripts/fuzz_atheris.py.

Deterministic for CI: ``derandomize=True`` and no example database. Each example is watched
for time (hypothesis' deadline, plus a faulthandler watchdog that ends a hung run with a
traceback instead of hanging CI) and for memory (peak RSS growth, via /proc/self/clear_refs).
Decompression bombs run in a child process under RLIMIT_AS. ``KNEEOA_FUZZ_SCALE=20`` runs
twenty times as many examples, for a longer local session.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import zlib
from functools import lru_cache
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kneeoa_desktop.core import errors
from kneeoa_desktop.core.film import formats
from kneeoa_desktop.core.film.imaging import MAX_PIXELS, MIN_SIDE, decode_image

from . import samples

REPO = Path(__file__).resolve().parents[1]
SCALE = float(os.environ.get("KNEEOA_FUZZ_SCALE", "1"))
#: A hung decode ends the test run with every thread's traceback after this long.
WATCHDOG_S = 60
#: Peak resident memory one small (≤ 70 kB) fuzzed input may add while it is decoded: above the
#: worst bounded case (a 3 kB progressive JPEG claiming 100 megapixels takes about 0.6 GB).
MEMORY_PER_INPUT_MB = 1200


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=5000, derandomize=True,
                    database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# --- seeds and guards ----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def seeds() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="kneeoa-seeds-") as folder:
        return {name: path.read_bytes() for name, path in samples.seed_images(Path(folder)).items()}


def _peak_reset() -> bool:
    """Reset the kernel's peak-RSS mark for this process (Linux ≥ 4.0); False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


@contextlib.contextmanager
def guarded(what: str = "decode"):
    """Watchdog for hangs and a check on the peak memory added inside the block."""
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    precise = sys.platform.startswith("linux") and _peak_reset()
    before = _status_kb("VmRSS") if precise else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    peak = _status_kb("VmHWM") if precise else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    grown_mb = (peak - before) / 1024
    assert grown_mb < MEMORY_PER_INPUT_MB, f"{what} raised the peak memory by {grown_mb:.0f} MB"


def check(data: bytes) -> str:
    with guarded():
        return samples.check_decode_contract(data)


# --- strategies ----------------------------------------------------------------------------------

#: Values that break size arithmetic: zero, one, just under/over the limits, sign bits, all ones.
ABSURD = st.sampled_from([0, 1, 2, 7, 63, 64, 65, 255, 256, 4095, 10000, 32767, 32768, 60000, 65535,
                          65536, 2**24, 2**31 - 1, 2**31, 2**32 - 1])
U16 = st.one_of(ABSURD.map(lambda v: v & 0xFFFF), st.integers(0, 0xFFFF))
U32 = st.one_of(ABSURD, st.integers(0, 0xFFFFFFFF))
SMALL = st.one_of(st.sampled_from([0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 64, 255]),
                  st.integers(0, 255))


@st.composite
def mutated(draw, names: list[str] | None = None) -> bytes:
    """A seed file after one to four random edits; positions favour the header."""
    name = draw(st.sampled_from(names or sorted(seeds())))
    data = bytearray(seeds()[name])
    for _ in range(draw(st.integers(1, 4))):
        size = max(1, len(data))
        pos = draw(st.one_of(st.integers(0, min(size, 600) - 1), st.integers(0, size - 1)))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "integer", "repeat"]))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 256))]
        elif kind == "integer":
            width, order = draw(st.sampled_from([(2, ">"), (2, "<"), (4, ">"), (4, "<")]))
            value = draw(U32) & (0xFFFF if width == 2 else 0xFFFFFFFF)
            data[pos:pos + width] = struct.pack(order + ("H" if width == 2 else "I"), value)
        else:
            start = draw(st.integers(0, size - 1))
            data[pos:pos] = data[start:start + draw(st.integers(1, 2048))] * draw(st.integers(1, 8))
    return bytes(data)


def png_chunk(kind: bytes, body: bytes, crc_ok: bool = True) -> bytes:
    crc = zlib.crc32(kind + body) if crc_ok else 0xDEADBEEF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


@st.composite
def png_headers(draw) -> bytes:
    """A PNG whose IHDR holds absurd values, over a plausible or hostile zlib body."""
    width, height = draw(U32), draw(U32)
    ihdr = struct.pack(">IIBBBBB", width, height, draw(SMALL), draw(SMALL), draw(st.integers(0, 2)),
                       draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    body = draw(st.one_of(
        st.integers(0, 200_000).map(lambda n: zlib.compress(b"\0" * n, 9)),  # a small bomb
        st.binary(max_size=2000).map(zlib.compress),
        st.binary(max_size=2000)))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr, draw(st.booleans()))
            + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b""))


@st.composite
def jpeg_headers(draw) -> bytes:
    """A baseline or progressive JPEG whose frame header holds absurd values."""
    data = bytearray(seeds()[draw(st.sampled_from(["baseline.jpg", "progressive.jpg"]))])
    sof = next(i for i in range(2, len(data) - 1) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
    data[sof + 4] = draw(SMALL)  # precision
    data[sof + 5:sof + 9] = struct.pack(">HH", draw(U16), draw(U16))
    if draw(st.booleans()):
        data[sof + 9] = draw(SMALL)  # number of components
    if draw(st.booleans()):
        data = data[:draw(st.integers(sof, len(data)))]
    return bytes(data)


@st.composite
def bmp_headers(draw) -> bytes:
    data = bytearray(seeds()[draw(st.sampled_from(["gray8.bmp", "rgb.bmp"]))])
    fields = {10: ("<I", U32), 14: ("<I", st.sampled_from([12, 40, 52, 56, 108, 124, 0, 1, 2**31])),
              18: ("<i", U32.map(lambda v: v - 2**31 if v >= 2**31 else v)),
              22: ("<i", U32.map(lambda v: v - 2**31 if v >= 2**31 else v)),
              26: ("<H", U16), 28: ("<H", SMALL), 30: ("<I", st.integers(0, 12)), 46: ("<I", U32)}
    for offset in draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=5, unique=True)):
        fmt, values = fields[offset]
        data[offset:offset + struct.calcsize(fmt)] = struct.pack(fmt, draw(values))
    return bytes(data)


def tiff_bytes(entries: list[tuple[int, int, int, int]], body: bytes, big_endian: bool = False) -> bytes:
    """A one-IFD TIFF; ``entries`` are (tag, type, count, inline value); ``body`` follows the IFD."""
    e = ">" if big_endian else "<"
    out = (b"MM\x00*" if big_endian else b"II*\x00") + struct.pack(e + "IH", 8, len(entries))
    for tag, typ, count, value in entries:
        inline = struct.pack(e + "HH", value & 0xFFFF, 0) if typ == 3 else struct.pack(e + "I", value)
        out += struct.pack(e + "HHI", tag, typ, count) + inline
    return out + b"\0\0\0\0" + body


@st.composite
def tiff_headers(draw) -> bytes:
    """A TIFF with absurd size, depth, channels, compression and strip tables."""
    n_entries = 10
    body_offset = 8 + 2 + 12 * n_entries + 4
    body = draw(st.one_of(st.binary(max_size=4000), st.integers(0, 60_000).map(lambda n: b"\x80" * n)))
    width, height = draw(U32), draw(U32)
    typ = draw(st.sampled_from([3, 4, 4, 8, 9, 16]))
    entries = [(256, typ, 1, width), (257, typ, 1, height),
               (258, 3, 1, draw(SMALL)), (259, 3, 1, draw(st.sampled_from([1, 5, 7, 8, 32773, 32946, 0, 65535]))),
               (262, 3, 1, draw(st.integers(0, 10))),
               (273, 4, draw(st.one_of(st.just(1), U32)), body_offset), (277, 3, 1, draw(SMALL)),
               (278, 4, 1, draw(U32)), (279, 4, draw(st.one_of(st.just(1), U32)), draw(U32)),
               (284, 3, 1, draw(st.integers(0, 3)))]
    return tiff_bytes(entries, body, draw(st.booleans()))


DICOM_FIELDS = {
    "Rows": U16, "Columns": U16, "BitsAllocated": SMALL, "BitsStored": SMALL, "HighBit": SMALL,
    "PixelRepresentation": st.integers(0, 3), "SamplesPerPixel": SMALL,
    "NumberOfFrames": st.one_of(st.sampled_from(["0", "1", "2", "-1", "1000000", "2147483647", "x", ""]),
                                st.integers(0, 2**31 - 1).map(str)),
    "PhotometricInterpretation": st.sampled_from(["MONOCHROME1", "MONOCHROME2", "RGB", "PALETTE COLOR",
                                                  "YBR_FULL", "YBR_FULL_422", "ARGB", "", "NONSENSE"]),
    "PlanarConfiguration": st.integers(0, 3),
    "RescaleSlope": st.sampled_from(["0", "-1", "1e308", "nan", "inf", "abc", "1"]),
    "RescaleIntercept": st.sampled_from(["0", "-1e308", "nan", "-inf", "7"]),
    "WindowCenter": st.sampled_from(["0", "nan", "1e300", "-5", "2048"]),
    "WindowWidth": st.sampled_from(["0", "-1", "nan", "1e-300", "1", "4096"]),
}


@st.composite
def dicom_headers(draw) -> bytes:
    """A DICOM file whose image module holds absurd values and whose pixel data is any length."""
    import pydicom

    name = draw(st.sampled_from(["plain.dcm", "mono1_window.dcm", "RLELossless.dcm", "jpeg_baseline.dcm"]))
    if name not in seeds():
        name = "plain.dcm"
    ds = pydicom.dcmread(io.BytesIO(seeds()[name]))
    for keyword in draw(st.lists(st.sampled_from(sorted(DICOM_FIELDS)), min_size=1, max_size=5, unique=True)):
        value = draw(DICOM_FIELDS[keyword])
        if keyword in ("NumberOfFrames", "RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"):
            # Written as raw text so that even values pydicom would refuse to set reach the file.
            vr = {"NumberOfFrames": "IS"}.get(keyword, "DS")
            ds.add_new(pydicom.datadict.tag_for_keyword(keyword), vr, None)
            ds[keyword]._value = value
        else:
            setattr(ds, keyword, value)
    if not ds.file_meta.TransferSyntaxUID.is_encapsulated and draw(st.booleans()):
        ds.PixelData = draw(st.one_of(st.binary(max_size=2000), st.just(ds.PixelData[: len(ds.PixelData) // 3])))
    out = io.BytesIO()
    try:
        ds.save_as(out, enforce_file_format=False)
    except Exception:  # pydicom refuses to write some of these values: they cannot reach a file
        assume(False)
    return out.getvalue()


# --- properties of the loader --------------------------------------------------------------------

@fuzz_settings(150)
@given(st.binary(max_size=4096))
def test_random_bytes(data):
    check(data)


MAGICS = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*", b"\0" * 128 + b"DICM",
          b"\x02\x00\x10\x00", b"\x08\x00\x05\x00"]


@fuzz_settings(150)
@given(st.sampled_from(MAGICS), st.binary(max_size=4096))
def test_random_bytes_behind_each_signature(magic, tail):
    check(magic + tail)


@fuzz_settings(400)
@given(mutated())
def test_mutated_valid_files(data):
    check(data)


@fuzz_settings(150)
@given(mutated(["plain.dcm", "mono1_window.dcm", "no_preamble.dcm", "jpeg_baseline.dcm",
                "RLELossless.dcm", "JPEG2000Lossless.dcm", "JPEGLSLossless.dcm"]))
def test_mutated_dicom(data):
    check(data)


@fuzz_settings(150)
@given(png_headers())
def test_png_with_absurd_header(data):
    outcome = check(data)
    width, height = struct.unpack(">II", data[16:24])
    if width * height > MAX_PIXELS:  # refused from the header alone, whatever the body
        assert outcome == "refused: ImageTooLargeError"
    elif 0 < width < MIN_SIDE or 0 < height < MIN_SIDE:
        assert outcome in ("refused: ImageTooSmallError", "refused: CorruptImageError")


@fuzz_settings(100)
@given(jpeg_headers())
def test_jpeg_with_absurd_frame_header(data):
    check(data)


@fuzz_settings(100)
@given(bmp_headers())
def test_bmp_with_absurd_info_header(data):
    check(data)


@fuzz_settings(150)
@given(tiff_headers())
def test_tiff_with_absurd_directory(data):
    check(data)


@fuzz_settings(150)
@given(dicom_headers())
def test_dicom_with_absurd_image_module(data):
    check(data)


@fuzz_settings(100)
@given(st.sampled_from(sorted(seeds())), st.data())
def test_every_truncation_of_a_header(name, data):
    full = seeds()[name]
    check(full[:data.draw(st.integers(0, min(len(full), 1200)))])


def test_the_seeds_themselves_decode():
    for name, data in seeds().items():
        assert check(data) == "ok", name


def test_header_reader_never_raises():
    for data in (b"", b"\xff\xd8\xff", b"II*\x00\xff\xff\xff\xff", b"MM\x00*\x00\x00\x00\x08\xff\xff",
                 b"BM" + b"\0" * 24, b"\x89PNG\r\n\x1a\n" + b"\0" * 4):
        header = formats.read_header(data)
        assert header is None or header.format in ("PNG", "JPEG", "BMP", "TIFF", "DICOM")


# --- regressions: exact inputs the fuzzers found -------------------------------------------------

def _jpeg_with_hidden_frame_header(width: int = 30000, height: int = 30000) -> bytes:
    data = bytearray(seeds()["baseline.jpg"])
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data[:sof] + b"\x00" + data[sof:])  # one stray byte before the SOF marker


def test_regression_stray_byte_before_jpeg_frame_header_is_no_bomb():
    """Finding 1: the header walk stopped at a stray byte, so the size check was skipped, while
    libjpeg skips it and allocated 30000×30000 (1.7 GB, 4 s) for a 3 kB file."""
    data = _jpeg_with_hidden_frame_header()
    assert (formats.read_header(data).width, formats.read_header(data).height) == (30000, 30000)
    with guarded():
        with pytest.raises(errors.ImageTooLargeError):
            decode_image(data)
    small = _jpeg_with_hidden_frame_header(96, 80)  # a stray byte alone still decodes, as before
    assert decode_image(small).pixels.shape == (80, 96)


def test_regression_tiff_size_is_the_one_libtiff_uses():
    """Finding 2: a repeated ImageWidth/ImageLength tag (libtiff keeps the first) or a size of
    another integer type hid the size libtiff decodes from the check."""
    body_offset = 8 + 2 + 12 * 11 + 4
    entries = [(256, 4, 1, 30000), (257, 4, 1, 30000), (256, 4, 1, 96), (257, 4, 1, 80), (258, 3, 1, 8),
               (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, body_offset), (277, 3, 1, 1), (278, 4, 1, 80),
               (279, 4, 1, 96 * 80)]
    with pytest.raises(errors.ImageTooLargeError):
        decode_image(tiff_bytes(entries, b"\x80" * 96 * 80))
    signed = [(256, 9, 1, 96), (257, 9, 1, 80), *entries[4:]]
    with pytest.raises(errors.CorruptImageError, match="image size cannot be read"):
        decode_image(tiff_bytes(signed, b"\x80" * 96 * 80))


def test_regression_dicom_with_unknown_value_representation():
    """Finding 3: an unknown VR in the Rows element raised NotImplementedError from pydicom's
    lazy parsing when the loader read the image size."""
    data = bytearray(seeds()["plain.dcm"])
    rows = data.find(b"\x28\x00\x10\x00US")  # (0028,0010) Rows, explicit VR "US"
    data[rows + 4:rows + 6] = b"WS"
    with pytest.raises(errors.CorruptImageError) as info:
        decode_image(bytes(data))
    samples.check_one_sentence(str(info.value))


# --- memory bombs, in a child process under an address-space limit -------------------------------

BOMB_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
limit = int(sys.argv[2]) << 20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from kneeoa_desktop.core.errors import KneeOAError
from kneeoa_desktop.core.film.imaging import decode_image
from tests.samples import check_decode_contract

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024

results = {}
for path in sys.argv[3:]:
    data = open(path, "rb").read()
    open("/proc/self/clear_refs", "w").write("5")  # reset the peak mark
    before, start = status("VmRSS"), time.perf_counter()
    try:
        outcome = check_decode_contract(data)
    except BaseException as exc:
        outcome = f"FINDING {type(exc).__name__}: {exc}"
    results[path] = {"outcome": outcome, "seconds": time.perf_counter() - start,
                     "peak_mb": status("VmHWM") - before}
print(json.dumps(results))
"""


def _zlib_zeros(n: int) -> bytes:
    packer = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    out = [packer.compress(chunk) for _ in range(n >> 20)]
    return b"".join(out) + packer.compress(b"\0" * (n & ((1 << 20) - 1))) + packer.flush()


def _png(width: int, height: int, depth: int, colour: int, body: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b"")


def _dicom_claiming(rows: int, cols: int, frames: int, bits: int, data: bytes, rle: bool = False) -> bytes:
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(seeds()["RLELossless.dcm" if rle and "RLELossless.dcm" in seeds()
                                           else "plain.dcm"]))
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = rows, cols, bits, bits, bits - 1
    ds.NumberOfFrames = frames
    if rle:
        from pydicom.encaps import encapsulate

        ds.PixelData = encapsulate([struct.pack("<16I", 1, 64, *[0] * 14) + data] * frames)
    else:
        ds.PixelData = data
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=False)
    return out.getvalue()


def bombs() -> dict[str, bytes]:
    """Tiny files that announce enormous images."""
    tiff_huge_strips = tiff_bytes([(256, 4, 1, 9000), (257, 4, 1, 9000), (258, 3, 1, 16), (259, 3, 1, 1),
                                   (262, 3, 1, 1), (273, 4, 0x3FFFFFFF, 8), (277, 3, 1, 1), (278, 4, 1, 1),
                                   (279, 4, 0x3FFFFFFF, 8), (284, 3, 1, 1)], b"\0" * 512)
    deflate_bomb = zlib.compress(b"\0" * (9000 * 9000), 9)
    tiff_deflate = tiff_bytes([(256, 4, 1, 9000), (257, 4, 1, 9000), (258, 3, 1, 8), (259, 3, 1, 8),
                               (262, 3, 1, 1), (273, 4, 1, 8 + 2 + 12 * 10 + 4), (277, 3, 1, 1),
                               (278, 4, 1, 9000), (279, 4, 1, len(deflate_bomb)), (284, 3, 1, 1)],
                              deflate_bomb)
    return {
        "png_60000x60000_zlib_bomb": _png(60000, 60000, 8, 0, _zlib_zeros(64 << 20)),
        "png_10000x10000_gray8_zero_body": _png(10000, 10000, 8, 0, _zlib_zeros(10000 * 10001)),
        "png_10000x10000_rgba16_short_body": _png(10000, 10000, 16, 6, _zlib_zeros(8 << 20)),
        "jpeg_30000x30000_behind_stray_byte": _jpeg_with_hidden_frame_header(),
        "jpeg_10000x10000_progressive_no_scans": _progressive_claiming(10000, 10000),
        "tiff_huge_strip_tables": tiff_huge_strips,
        "tiff_9000x9000_deflate_bomb": tiff_deflate,
        "tiff_60000x60000": tiff_bytes([(256, 4, 1, 60000), (257, 4, 1, 60000), (258, 3, 1, 8)], b""),
        "dicom_10000x10000x4_frames_64bit_little_data": _dicom_claiming(10000, 10000, 4, 64, b"\0" * 4096),
        "dicom_65535x65535": _dicom_claiming(65535, 65535, 1, 16, b"\0" * 4096),
        "dicom_rle_10000x10000x4_frames": _dicom_claiming(10000, 10000, 4, 16, b"\x81\x00" * 64, rle=True),
    }


def _progressive_claiming(width: int, height: int) -> bytes:
    data = bytearray(seeds()["progressive.jpg"])
    sof = data.find(b"\xff\xc2")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses RLIMIT_AS and /proc")
def test_memory_bombs_stay_bounded(tmp_path):
    """Each bomb is refused or decoded within 2.5 GB of address space, 1.2 GB of added peak
    memory and 20 s; the limits are far above what the 100-megapixel cap allows for gray data."""
    paths = []
    for name, data in bombs().items():
        path = tmp_path / name
        path.write_bytes(data)
        assert len(data) < 1 << 20, name  # the point: tiny files
        paths.append(str(path))
    result = subprocess.run([sys.executable, "-c", BOMB_CHILD, str(REPO), "2560", *paths],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    problems = []
    for path, r in report.items():
        name = Path(path).name
        print(f"{name}: {r['outcome']}, {r['seconds']:.2f} s, +{r['peak_mb']:.0f} MB")
        if r["outcome"].startswith("FINDING") or r["seconds"] > 20 or r["peak_mb"] > 1200:
            problems.append(f"{name}: {r}")
    assert not problems, problems


# --- the command line ----------------------------------------------------------------------------

@contextlib.contextmanager
def captured_output():
    """Capture sys.stdout/sys.stderr, and file descriptor 2 too, where C libraries write; the
    descriptor's text is in ``native["text"]`` after the block."""
    out, err, native = io.StringIO(), io.StringIO(), {"text": ""}
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                yield out, err, native
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            native["text"] = capture.read().decode("utf-8", "replace")


@contextlib.contextmanager
def warnings_to_stderr():
    """Show Python warnings on sys.stderr, as a plain `kneeoa` process does (pytest records them)."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("cli-fuzz")


@pytest.mark.slow
@fuzz_settings(25)
@given(files=st.lists(st.one_of(mutated(), st.binary(max_size=512), st.sampled_from(sorted(seeds())).map(
    lambda name: seeds()[name])), min_size=1, max_size=3))
def test_cli_predict_on_fuzzed_files(predictor, cli_folder, files):
    """`kneeoa predict --json`: one JSON line per good file, one `kneeoa: FILE: sentence` line
    per bad file on stderr and nothing else, exit 0 only when every file was graded."""
    from kneeoa_desktop.cli import common as cli_common
    from kneeoa_desktop.cli import entry as cli

    folder = Path(tempfile.mkdtemp(dir=cli_folder))
    paths = []
    for i, data in enumerate(files):
        paths.append(folder / f"input{i}.bin")
        paths[-1].write_bytes(data)
    expected_ok = set()
    for path in paths:
        try:
            decode_image(path.read_bytes())
            expected_ok.add(str(path))
        except errors.KneeOAError:
            pass
    with mock.patch.object(cli_common, "predictor_for", lambda args: predictor), guarded("kneeoa predict"):
        with captured_output() as (out, err, native), warnings_to_stderr():
            code = cli.main(["predict", "--json", *map(str, paths)])
    assert native["text"] == "", f"a library wrote to stderr: {native['text']!r}"
    graded = [json.loads(line)["file"] for line in out.getvalue().splitlines()]
    assert set(graded) == expected_ok
    lines = err.getvalue().splitlines()
    failed = [p for p in map(str, paths) if p not in expected_ok]
    assert len(lines) == len(failed), lines
    for path, line in zip(failed, lines):
        assert line.startswith(f"kneeoa: {path}: "), line
        samples.check_one_sentence(line[len(f"kneeoa: {path}: "):])
    assert code == (1 if failed else 0)


def test_regression_damaged_descriptive_element_does_not_block_the_image():
    """Finding 4 (atheris): an unknown VR in Modality (0008,0060) raised NotImplementedError
    while the loader collected metadata, after the pixels had decoded; such a field is now skipped."""
    data = bytearray(seeds()["plain.dcm"])
    modality = data.find(b"\x08\x00\x60\x00CS")
    data[modality + 4:modality + 6] = b"CJ"
    image = decode_image(bytes(data))
    assert image.format == "DICOM" and "Modality" not in image.metadata
    assert image.patient["PatientID"] == "PID-12345"


def test_regression_damaged_compressed_dicom_is_called_damaged():
    """Finding 5: RLE data that pydicom's own decoder rejects was reported as a compression
    'which cannot be decoded here', though the decoder is there; and an unregistered transfer
    syntax UID (file text) went verbatim into the sentence."""
    import pydicom
    from pydicom.encaps import encapsulate

    ds = pydicom.dcmread(io.BytesIO(seeds()["plain.dcm"]))
    ds.file_meta.TransferSyntaxUID = pydicom.uid.RLELossless
    ds.PixelData = encapsulate([struct.pack("<16I", 1, 64, *[0] * 14) + b"\x81\x00" * 64])
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=False)
    with pytest.raises(errors.CorruptImageError, match="damaged"):
        decode_image(out.getvalue())
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=False)
    with pytest.raises(errors.UnsupportedFormatError) as info:
        decode_image(out.getvalue())
    assert "1.2.3.4.5" not in str(info.value) and "unknown compression" in str(info.value)


def _noisy_inputs() -> dict[str, bytes]:
    """Damage that made libraries talk on stderr: libpng, libjpeg (a file that still decodes),
    and pydicom's validation warnings."""
    png = bytearray(seeds()["gray8.png"])
    idat = png.find(b"IDAT")
    png[idat + 10] ^= 0x55  # "libpng error: IDAT: invalid code lengths set"
    jpeg = bytearray(seeds()["baseline.jpg"])
    dqt = jpeg.find(b"\xff\xdb")
    jpeg[dqt:dqt] = b"\x00"  # "Corrupt JPEG data: 1 extraneous bytes before marker 0xdb"
    dicom = bytearray(seeds()["plain.dcm"])
    uid = dicom.find(b"1.2.840.10008.1.2.1\0")
    dicom[uid + 5] = ord("#")  # "UserWarning: Invalid value for VR UI: '1.2.8#0.10008.1.2.1'"
    return {"crc.png": bytes(png), "stray.jpg": bytes(jpeg), "uid.dcm": bytes(dicom)}


@pytest.mark.slow
def test_regression_libraries_say_nothing_on_stderr(predictor, tmp_path):
    """Findings 6-8 (atheris log): libpng and libjpeg wrote to file descriptor 2 and pydicom
    raised Python warnings, so `kneeoa predict` printed extra lines beside its one sentence."""
    from kneeoa_desktop.cli import common as cli_common
    from kneeoa_desktop.cli import entry as cli

    paths = []
    for name, data in _noisy_inputs().items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    with mock.patch.object(cli_common, "predictor_for", lambda args: predictor):
        with captured_output() as (out, err, native), warnings_to_stderr():
            code = cli.main(["predict", "--json", *map(str, paths)])
    assert native["text"] == ""
    assert err.getvalue().splitlines() == [
        f"kneeoa: {tmp_path / 'crc.png'}: The PNG file is damaged or truncated and cannot be decoded.",
        f"kneeoa: {tmp_path / 'uid.dcm'}: The DICOM pixel data uses an unknown compression, "
        "which cannot be decoded here."]
    assert [json.loads(line)["file"] for line in out.getvalue().splitlines()] == [str(tmp_path / "stray.jpg")]
    assert code == 1


def test_silencing_restores_stderr():
    """The loader points descriptor 2 elsewhere only while a decoder runs."""
    before = os.fstat(2)
    with pytest.raises(errors.CorruptImageError):
        decode_image(_noisy_inputs()["crc.png"])
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
