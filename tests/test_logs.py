"""The developer's log: where it is, what it holds, rotation, and no patient identifiers in it."""

from __future__ import annotations

import logging

import cv2
import pytest

from kneeoa_desktop.cli import entry as cli
from kneeoa_desktop.core import logs

from . import samples

PATIENT = ("DOE^JOHN", "PID-98765", "19450101")


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    """A fresh log file for this test; the session's handler is put back afterwards."""
    logs.shutdown_logging()
    folder = tmp_path / "log"
    monkeypatch.setenv("KNEEOA_LOG_DIR", str(folder))
    yield folder
    logs.shutdown_logging()


def read_log(folder) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("kneeoa.log*")))


def test_setup_writes_to_the_user_log_folder(log_dir):
    path = logs.setup_logging("test")
    assert path == log_dir / "kneeoa.log" == logs.log_file()
    logging.getLogger("kneeoa.something").warning("hello %s", "world")
    assert "WARNING kneeoa.something: hello world" in read_log(log_dir)
    assert logs.setup_logging("test") == path  # a second call adds no second handler
    files = [h for h in logging.getLogger("kneeoa").handlers if isinstance(h, logging.FileHandler)]
    assert len(files) == 1  # (pytest's own capture handlers may sit beside it)


def test_the_log_rotates(log_dir, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    logs.setup_logging("test")
    for i in range(200):
        logging.getLogger("kneeoa.test").info("line %d %s", i, "x" * 40)
    names = sorted(p.name for p in log_dir.iterdir())
    assert names == ["kneeoa.log", "kneeoa.log.1", "kneeoa.log.2", "kneeoa.log.3"]
    assert all(p.stat().st_size <= 2200 for p in log_dir.iterdir())


def test_an_unwritable_log_folder_is_not_an_error(tmp_path, monkeypatch, capsys, knee_png):
    logs.shutdown_logging()
    blocker = tmp_path / "file"
    blocker.write_text("a file where the log folder should be")
    monkeypatch.setenv("KNEEOA_LOG_DIR", str(blocker / "log"))
    try:
        assert logs.setup_logging("test") is None
        assert cli.main(["predict", "--json", str(knee_png)]) == 0
        assert capsys.readouterr().err == ""
    finally:
        logs.shutdown_logging()


def test_cli_logs_details_while_the_user_gets_one_line(log_dir, tmp_path, capsys, monkeypatch):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    assert cli.main(["predict", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    text = read_log(log_dir)
    assert "kneeoa predict" in text and "broken.png" in text

    from kneeoa_desktop.core import pipeline

    def bug(path):
        raise RuntimeError("an internal fault")

    monkeypatch.setattr(pipeline, "load_image", bug)  # the CLI grades through the pipeline
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), samples_image())
    assert cli.main(["predict", str(good)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    text = read_log(log_dir)
    assert "Traceback" in text and "RuntimeError: an internal fault" in text


def test_info_says_where_the_log_is(log_dir, capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"log file     {log_dir / 'kneeoa.log'}" in out
    assert "origin       bundled with the program" in out


def test_patient_identifiers_never_reach_the_log(log_dir, tmp_path, capsys, knee_pixels):
    path = samples.write_dicom(knee_pixels, tmp_path / "study.dcm", patient_name=PATIENT[0],
                               patient_id=PATIENT[1])
    import pydicom

    ds = pydicom.dcmread(path)
    ds.PatientBirthDate = PATIENT[2]
    ds.save_as(path)
    assert cli.main(["predict", "--json", "--overlay-dir", str(tmp_path / "out"), str(path)]) == 0
    out = capsys.readouterr().out
    # Even a careless message quoting them is redacted once the file has been read.
    logging.getLogger("kneeoa.test").error("careless: %s / %s / %s / John Doe? DOE JOHN", *PATIENT)
    text = read_log(log_dir)
    assert "study.dcm" in text
    for value in (*PATIENT, "DOE JOHN"):
        assert value not in text and value not in out
    assert "[redacted]" in text


def samples_image():
    import numpy as np

    return np.tile(np.linspace(0, 255, 128, dtype=np.uint8), (128, 1))
