"""The annotated PNG: content, atomic writing, never over the source, privacy, and failures."""

from __future__ import annotations

import os
from datetime import datetime

import cv2
import numpy as np
import pytest

from kneeoa_desktop.core import errors
from kneeoa_desktop.core.outputs.export import (default_export_name, export_annotated, render_annotated,
                                        write_png_atomic)
from kneeoa_desktop.core.film.imaging import load_image
from kneeoa_desktop.core.verdict.prediction import Prediction

from . import samples

WHEN = datetime(2026, 1, 2, 3, 4)


def _prediction(name="knee.png", roi=None):
    rng = np.random.default_rng(1)
    probs = np.array([0.1, 0.15, 0.5, 0.2, 0.05])
    return Prediction(probs, rng.random((14, 14, 5)).astype(np.float32), "model@1.0", "CPU",
                      source_name=name, roi=roi)


def test_export_writes_a_png_with_image_and_panel(tmp_path, knee_pixels):
    out = export_annotated(knee_pixels, _prediction(), tmp_path / "out.png", when=WHEN)
    assert out == tmp_path / "out.png"
    img = cv2.imread(str(out))
    assert img.shape[0] >= 640 and img.shape[1] > img.shape[0]  # picture plus text panel
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temporary file left


def test_rendering_depends_on_what_it_shows(knee_pixels):
    a = render_annotated(knee_pixels, _prediction(), when=WHEN)
    b = render_annotated(knee_pixels, _prediction(), when=WHEN, evidence_grade=4)
    c = render_annotated(knee_pixels, _prediction(), when=WHEN, brightness=3.0)
    d = render_annotated(knee_pixels, _prediction(), when=WHEN, source_name="другой.png")
    assert not np.array_equal(a, b) and not np.array_equal(a, c) and not np.array_equal(a, d)
    assert np.array_equal(a, render_annotated(knee_pixels, _prediction(), when=WHEN))


def test_patient_identifiers_only_when_asked(tmp_path, knee_pixels):
    dicom = load_image(samples.write_dicom(knee_pixels, tmp_path / "p.dcm"))
    assert dicom.patient["PatientID"] == "PID-12345"
    plain = render_annotated(dicom.display_u8(), _prediction(), when=WHEN)
    anonymous = load_image(samples.write_dicom(knee_pixels, tmp_path / "q.dcm", patient_name="X^Y",
                                               patient_id="OTHER"))
    assert np.array_equal(plain, render_annotated(anonymous.display_u8(), _prediction(), when=WHEN))
    named = render_annotated(dicom.display_u8(), _prediction(), when=WHEN, patient=dicom.patient)
    assert not np.array_equal(plain, named)


def test_roi_is_marked(knee_pixels):
    plain = render_annotated(knee_pixels, _prediction(), when=WHEN, brightness=0)
    marked = render_annotated(knee_pixels, _prediction(roi=(20, 20, 150, 150)), when=WHEN, brightness=0)
    assert not np.array_equal(plain, marked)


def test_never_overwrites_the_source(tmp_path, knee_png):
    source = tmp_path / "knee.png"
    source.write_bytes(knee_png.read_bytes())
    before = source.read_bytes()
    with pytest.raises(errors.ExportError, match="source"):
        export_annotated(load_image(source).pixels, _prediction(), source, source_path=source)
    assert source.read_bytes() == before


def test_suffix_is_png_and_default_name():
    assert default_export_name("IM0001.dcm") == "IM0001_kneeoa.png"
    assert default_export_name("колено.png") == "колено_kneeoa.png"


def test_existing_target_is_replaced_whole(tmp_path, knee_pixels):
    target = tmp_path / "x.png"
    target.write_bytes(b"old")
    write_png_atomic(np.zeros((80, 80, 3), np.uint8), target)
    assert cv2.imread(str(target)).shape == (80, 80, 3)
    write_png_atomic(np.zeros((80, 80, 3), np.uint8), tmp_path / "noext")
    assert (tmp_path / "noext.png").is_file()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_folder(tmp_path, knee_pixels):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(errors.ExportError, match="permission"):
            export_annotated(knee_pixels, _prediction(), folder / "x.png")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_permission_denied_as_any_user(tmp_path, knee_pixels, monkeypatch):
    import errno
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)  # root ignores chmod, so simulate it
    with pytest.raises(errors.ExportError, match="permission"):
        export_annotated(knee_pixels, _prediction(), tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_full_disk_leaves_nothing_behind(tmp_path, knee_pixels, monkeypatch):
    import errno

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(errors.ExportError, match="full"):
        export_annotated(knee_pixels, _prediction(), tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path, knee_pixels):
    with pytest.raises(errors.ExportError, match="does not exist"):
        export_annotated(knee_pixels, _prediction(), tmp_path / "nope" / "x.png")
