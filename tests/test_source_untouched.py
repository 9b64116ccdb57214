"""The source radiograph is never modified: not its bytes, not even its modification time.

Every operation that touches a source (loading each format, grading through the core, `kneeoa
predict` with --json / --csv / --overlay-dir, exporting next to it, and exporting under its own
name, which is refused) is checked by the sha256, size, mtime, inode and ctime of every source
file. The sources are given an mtime in the past first, so that any write at all would show.

The check itself is tested too (the ``test_the_check_*`` tests): an operation that appends a
byte, replaces the file with a copy that keeps its bytes and mtime, only touches its mtime, or
damages it and then fails, must each make it fail. The first version compared only bytes and
mtime, and only when the block finished without an exception, so a replacement that kept both,
or a write followed by an error, went unseen.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from kneeoa_desktop.cli import common as cli_common
from kneeoa_desktop.cli import entry as cli
from kneeoa_desktop.core import errors
from kneeoa_desktop.core.outputs.export import default_export_name, export_annotated
from kneeoa_desktop.core.film.imaging import load_image
from kneeoa_desktop.core.verdict.prediction import Prediction

from . import samples

PAST = 1_600_000_000  # 2020-09-13: any write would move the mtime to now


@pytest.fixture
def sources(tmp_path, knee_pixels) -> dict[str, Path]:
    """One radiograph in every format and layout the loader reads, each in its own folder."""
    makers = {
        "knee.png": lambda p: p.write_bytes(cv2_png(knee_pixels)),
        "knee16.png": lambda p: samples.write_png16(knee_pixels, p),
        "knee16.tif": lambda p: samples.write_tiff16(knee_pixels, p),
        "knee_rgba.png": lambda p: samples.write_rgba(knee_pixels, p),
        "knee.jpg": lambda p: samples.write_jpeg(knee_pixels, p),
        "knee.bmp": lambda p: p.write_bytes(cv2_encode(knee_pixels, ".bmp")),
        "knee.dcm": lambda p: samples.write_dicom(knee_pixels, p),
        "knee_mono1.dcm": lambda p: samples.write_dicom(knee_pixels, p, monochrome1=True, window=(2000, 3000)),
        "knee_jpeg.dcm": lambda p: samples.write_dicom(knee_pixels, p, compress="JPEGBaseline8Bit"),
        "IM0001": lambda p: samples.write_dicom(knee_pixels, p),  # no extension
    }
    paths = {}
    for name, make in makers.items():
        folder = tmp_path / name.replace(".", "_")
        folder.mkdir()
        path = folder / name
        make(path)
        os.utime(path, (PAST, PAST))
        paths[name] = path
    return paths


def cv2_encode(pixels, ext: str) -> bytes:
    import cv2

    return cv2.imencode(ext, pixels)[1].tobytes()


def cv2_png(pixels) -> bytes:
    return cv2_encode(pixels, ".png")


def fingerprint(paths) -> dict[str, dict | None]:
    """What any write, replacement or touch of a file changes (None: the file is gone)."""
    prints = {}
    for p in paths:
        try:
            st = os.stat(p)
            data = Path(p).read_bytes()
        except FileNotFoundError:
            prints[str(p)] = None
            continue
        prints[str(p)] = {"sha256": hashlib.sha256(data).hexdigest(), "size": st.st_size,
                          "mtime_ns": st.st_mtime_ns, "inode": (st.st_dev, st.st_ino),
                          "ctime_ns": st.st_ctime_ns}
    return prints


def assert_same(before: dict, after: dict) -> None:
    changed = {path: "deleted" if after[path] is None
               else sorted(k for k in before[path] if before[path][k] != after[path][k])
               for path in before if after[path] != before[path]}
    assert not changed, f"source files were modified: {changed}"


@contextlib.contextmanager
def untouched(paths):
    """Assert that the files keep their bytes, mtime and inode through the block, even when
    the block ends with an exception (then the modification is reported, chained to it)."""
    paths = list(paths)
    assert paths
    before = fingerprint(paths)
    assert all(fp is not None and fp["mtime_ns"] == PAST * 10**9 for fp in before.values())
    try:
        yield
    finally:
        assert_same(before, fingerprint(paths))


def run_cli(predictor, *args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(cli_common, "predictor_for", lambda a: predictor), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def _load_every_format(sources):
    with untouched(sources.values()):
        for name, path in sources.items():
            image = load_image(path)
            assert image.pixels.ndim == 2, name


def test_loading_every_format(sources):
    _load_every_format(sources)


# The check can fail: each of these makes the code under test modify a source, and the
# check must say so.

def test_the_check_catches_a_loader_that_appends_a_byte(sources, monkeypatch):
    real_load = load_image

    def appending_load(path, *args, **kwargs):
        with open(path, "ab") as handle:
            handle.write(b"\0")
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(f"{__name__}.load_image", appending_load)
    with pytest.raises(AssertionError, match="source files were modified.*sha256"):
        _load_every_format(sources)


def test_the_check_catches_an_export_written_over_the_source(sources, knee_pixels):
    """A caller that forgets ``source_path`` lets the export replace the source atomically."""
    png = sources["knee.png"]
    fake = Prediction(np.full(5, 0.2), np.zeros((7, 7, 5), np.float32), "model@1.0", "CPU")
    with pytest.raises(AssertionError, match="source files were modified"):
        with untouched([png]):
            export_annotated(knee_pixels, fake, png)


def test_the_check_catches_a_replacement_that_keeps_bytes_and_mtime(sources):
    png = sources["knee.png"]
    with pytest.raises(AssertionError, match="inode"):
        with untouched([png]):
            copy = png.with_name("copy.png")
            shutil.copy2(png, copy)  # same bytes, same mtime
            os.replace(copy, png)


def test_the_check_catches_a_touch_and_a_deletion(sources):
    png, bmp = sources["knee.png"], sources["knee.bmp"]
    with pytest.raises(AssertionError, match="mtime_ns"):
        with untouched([png]):
            os.utime(png)
    with pytest.raises(AssertionError, match="deleted"):
        with untouched([bmp]):
            bmp.unlink()


def test_the_check_catches_a_write_even_when_the_operation_then_fails(sources):
    png = sources["knee.png"]
    with pytest.raises(AssertionError, match="source files were modified") as info:
        with untouched([png]):
            png.write_bytes(b"half an export")
            raise errors.ExportError("The disk is full; nothing was written.")
    assert isinstance(info.value.__context__, errors.ExportError)


@pytest.mark.slow
def test_grading_through_the_core(sources, predictor):
    with untouched(sources.values()):
        for path in sources.values():
            image = load_image(path)
            predictor.predict(image)
            predictor.predict(image.crop(10, 10, 150, 150))


@pytest.mark.slow
def test_cli_predict_json_csv_and_overlays_next_to_the_sources(sources, predictor, tmp_path):
    paths = list(sources.values())
    with untouched(paths):
        code, out, err = run_cli(predictor, "predict", "--json", *paths)
        assert code == 0 and err == "" and len(out.splitlines()) == len(paths)
        code, _, err = run_cli(predictor, "predict", "--csv", tmp_path / "r.csv", *paths)
        assert code == 0 and err == ""
        for path in paths:  # each overlay lands in the source's own folder
            code, _, err = run_cli(predictor, "predict", "--overlay-dir", path.parent, path)
            assert code == 0 and err == "", err
            assert (path.parent / default_export_name(path.name)).is_file()


@pytest.mark.slow
def test_cli_walking_a_folder_into_itself(sources, predictor, tmp_path):
    """`kneeoa predict --overlay-dir D D`: the folder being read is also the output folder."""
    folder = tmp_path / "all"
    folder.mkdir()
    for path in sources.values():
        (folder / path.name).write_bytes(path.read_bytes())
        os.utime(folder / path.name, (PAST, PAST))
    originals = list(folder.iterdir())
    with untouched(originals):
        code, _, err = run_cli(predictor, "predict", "--overlay-dir", folder, folder)
        assert code == 0 and err == "", err
        code, _, err = run_cli(predictor, "predict", "--overlay-dir", folder, folder)  # again, over its own output
        assert code == 0 and err == "", err


def _prediction_for(path, predictor):
    image = load_image(path)
    return image, predictor.predict(image)


@pytest.mark.slow
def test_export_next_to_the_source(sources, predictor):
    with untouched(sources.values()):
        for path in sources.values():
            image, prediction = _prediction_for(path, predictor)
            target = path.parent / default_export_name(path.name)
            assert export_annotated(image.display_u8(), prediction, target, source_path=path) == target


@pytest.mark.slow
def test_export_under_the_source_name_is_refused(sources, predictor, tmp_path):
    png = sources["knee.png"]
    image, prediction = _prediction_for(png, predictor)
    link = tmp_path / "hardlink.png"
    os.link(png, link)
    targets = [png,                                  # the very same path
               png.with_suffix(""),                  # 'knee' becomes 'knee.png'
               png.parent / "." / png.name,          # another spelling of it
               link]                                 # a hard link to it
    with untouched(sources.values()):
        for target in targets:
            with pytest.raises(errors.ExportError, match="source") as info:
                export_annotated(image.display_u8(), prediction, target, source_path=png)
            samples.check_one_sentence(str(info.value))
        # A DICOM source: its name with .png appended is a new file, never the source.
        dcm = sources["knee.dcm"]
        image, prediction = _prediction_for(dcm, predictor)
        written = export_annotated(image.display_u8(), prediction, dcm, source_path=dcm)
        assert written == dcm.with_name("knee.dcm.png")
    assert sorted(p.name for p in png.parent.iterdir()) == ["knee.png"]  # nothing else was written
