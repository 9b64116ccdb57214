"""The source radiograph is never modified: not its bytes, not even its modification time.

Every operation that touches a source (loading each format, grading through the core, `kneeoa
predict` with --json / --csv / --overlay-dir, exporting next to it, and exporting under its own
name, which is refused) is checked by the sha256 and the mtime of every source file. The
sources are given an mtime in the past first, so that any write at all would show.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from pathlib import Path
from unittest import mock

import pytest

from kneeoa_desktop import cli
from kneeoa_desktop.core import errors
from kneeoa_desktop.core.export import default_export_name, export_annotated
from kneeoa_desktop.core.imaging import load_image

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


def fingerprint(paths) -> dict[str, tuple[str, int]]:
    return {str(p): (hashlib.sha256(Path(p).read_bytes()).hexdigest(), Path(p).stat().st_mtime_ns)
            for p in paths}


@contextlib.contextmanager
def untouched(paths):
    """Assert that the files keep their bytes and their mtime through the block."""
    paths = list(paths)
    before = fingerprint(paths)
    assert all(mtime == PAST * 10**9 for _, mtime in before.values())
    yield
    assert fingerprint(paths) == before


def run_cli(predictor, *args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.object(cli, "_predictor", lambda a: predictor), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def test_loading_every_format(sources):
    with untouched(sources.values()):
        for name, path in sources.items():
            image = load_image(path)
            assert image.pixels.ndim == 2, name


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
