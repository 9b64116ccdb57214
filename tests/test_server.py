"""`kneeoa serve`, the parts that need no model: upload cap, ids, destinations, the DICOM objects.

The live server (real model, curl, DCMTK, Chromium) is exercised in test_server_live.py.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install -e '.[server]')")
pytest.importorskip("pynetdicom", reason="the server extra is not installed (pip install -e '.[server]')")

from kneeoa_desktop.server.dicom_node import Destination  # noqa: E402
from kneeoa_desktop.server.dicom_objects import (COMPREHENSIVE_SR, SECONDARY_CAPTURE, secondary_capture,  # noqa: E402
                                                 structured_report, to_bytes)
from kneeoa_desktop.server.grading_service import is_result_id  # noqa: E402
from kneeoa_desktop.server.run import ServeError, ServeOptions, is_loopback, serve  # noqa: E402
from kneeoa_desktop.server.upload_limit import UploadLimit  # noqa: E402


def _original():
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.PatientSex = "Doe^Jane", "PID-12345", "F"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3.4", "1.2.3.4.5"
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.1.1", "1.2.3.4.5.6"
    ds.AccessionNumber = "ACC-9"
    return ds


RECORDS = [
    {"probabilities": [0.01, 0.02, 0.07, 0.8, 0.1], "grade": 3, "oa_probability": 0.97, "knee": "right",
     "region": [10, 20, 300, 300], "in_scope": True, "scope_note": None},
    {"probabilities": [0.3, 0.3, 0.2, 0.1, 0.1], "grade": 0, "oa_probability": 0.4, "knee": "left",
     "region": [400, 20, 300, 300], "in_scope": False,
     "scope_note": "Metal implant: a replaced joint cannot be KL-graded."},
]


def _read(data: bytes):
    import pydicom

    return pydicom.dcmread(io.BytesIO(data))


def test_structured_report_carries_each_knee_and_the_study():
    sr = _read(to_bytes(structured_report(_original(), RECORDS, "kneeoa-kl-lite0@1.0.0")))
    assert sr.SOPClassUID == COMPREHENSIVE_SR and sr.Modality == "SR"
    assert (sr.PatientID, sr.StudyInstanceUID, sr.AccessionNumber) == ("PID-12345", "1.2.3.4", "ACC-9")
    assert sr.SeriesInstanceUID not in ("1.2.3.4.5", "")  # a new series
    assert sr.VerificationFlag == "UNVERIFIED"
    texts = {}
    knees = []
    for item in sr.ContentSequence:
        if item.ValueType == "CONTAINER":
            knees.append(item)
        elif item.ValueType == "TEXT":
            texts[item.ConceptNameCodeSequence[0].CodeMeaning] = item.TextValue
        elif item.ValueType == "IMAGE":
            assert item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == "1.2.3.4.5.6"
    assert texts["Algorithm Name"] == "kneeoa-kl-lite0" and texts["Algorithm Version"] == "1.0.0"
    assert texts["Disclaimer"].startswith("Decision support only")
    assert [k.ConceptNameCodeSequence[0].CodeMeaning for k in knees] == ["Right knee", "Left knee"]

    def content(knee):
        out = {}
        for item in knee.ContentSequence:
            name = item.ConceptNameCodeSequence[0].CodeMeaning
            if item.ValueType == "NUM":
                out[name] = float(item.MeasuredValueSequence[0].NumericValue)
            elif item.ValueType == "TEXT":
                out[name] = item.TextValue
            else:
                out[name] = item.ConceptCodeSequence[0].CodeMeaning
        return out

    right, left = map(content, knees)
    assert right["Laterality"] == "Right" and right["Kellgren-Lawrence grade"] == 3
    assert right["Finding"] == "KL3 (moderate)" and right["Probability of KL3"] == pytest.approx(0.8)
    # out of scope: no grade, and the SR says why
    assert "Kellgren-Lawrence grade" not in left
    assert left["Finding"] == "Not graded: Metal implant: a replaced joint cannot be KL-graded."
    assert left["Within the model's scope"] == "no" and left["Laterality"] == "Left"


def test_secondary_capture_is_the_annotated_rgb_image():
    rgb = np.random.default_rng(1).integers(0, 256, (50, 80, 3), dtype=np.uint8)
    sc = _read(to_bytes(secondary_capture(_original(), rgb, "m@1")))
    assert sc.SOPClassUID == SECONDARY_CAPTURE and sc.Modality == "OT" and sc.BurnedInAnnotation == "YES"
    assert sc.PatientName == "Doe^Jane" and sc.StudyInstanceUID == "1.2.3.4"
    assert sc.SourceImageSequence[0].ReferencedSOPInstanceUID == "1.2.3.4.5.6"
    assert np.array_equal(sc.pixel_array, rgb)


@pytest.mark.skipif(shutil.which("dsrdump") is None, reason="DCMTK's dsrdump is not installed (apt install dcmtk)")
def test_dcmtk_reads_our_structured_report(tmp_path):
    path = tmp_path / "report.dcm"
    path.write_bytes(to_bytes(structured_report(_original(), RECORDS, "kneeoa-kl-lite0@1.0.0")))
    out = subprocess.run(["dsrdump", "+Pl", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Comprehensive SR" in out.stdout and '"Kellgren-Lawrence grade")="3"' in out.stdout
    assert "Not graded: Metal implant" in out.stdout


def test_result_ids_cannot_name_another_file():
    assert is_result_id("0123456789abcdef0123456789abcdef")
    for bad in ("", "../../etc/passwd", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde",
                "0123456789abcdef0123456789abcdef0", "0123456789abcdef/123456789abcdef"):
        assert not is_result_id(bad)


def test_destination_parsing():
    assert Destination.parse("PACS@10.0.0.5:104") == Destination("PACS", "10.0.0.5", 104)
    assert Destination.parse("ORTHANC@::1:4242") == Destination("ORTHANC", "::1", 4242)
    for bad in ("PACS", "PACS@host", "@host:104", "PACS@host:0", "PACS@host:http", "A" * 17 + "@h:104"):
        with pytest.raises(ValueError):
            Destination.parse(bad)


def test_loopback_rule():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")


def test_another_address_needs_an_api_key(monkeypatch):
    monkeypatch.delenv("KNEEOA_API_KEY", raising=False)
    with pytest.raises(ServeError, match="needs an API key"):
        serve(ServeOptions(host="0.0.0.0"))
    monkeypatch.setenv("KNEEOA_API_KEY", "short")
    with pytest.raises(ServeError, match="at least 16"):
        serve(ServeOptions(host="0.0.0.0"))


def test_a_taken_port_is_one_sentence(monkeypatch):
    import socket

    monkeypatch.delenv("KNEEOA_API_KEY", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=f"HTTP port 127.0.0.1:{port} cannot be used"):
            serve(ServeOptions(port=port))


# --- the upload cap, on a tiny ASGI app ------------------------------------------------------

async def _echo_length(scope, receive, send):
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"client gone"})
            return
        total += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(total).encode()})


def _call(app, chunks, headers=()):
    sent = []
    queue = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive():
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": list(headers)}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


def test_upload_cap_by_declared_length_and_by_stream():
    app = UploadLimit(_echo_length, 1000)
    assert _call(app, [b"x" * 600, b"x" * 400]) == (200, b"1000")
    status, body = _call(app, [b"x" * 600, b"x" * 401])  # chunked past the cap
    assert status == 413 and b"larger than the 0.001 MB" in body
    status, body = _call(app, [b"x"], headers=[(b"content-length", b"5000")])  # refused before reading
    assert status == 413


def test_cli_serve_help_and_bad_arguments():
    run = [sys.executable, "-m", "kneeoa_desktop.cli", "serve"]
    out = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "X-API-Key" in out.stdout and "--forward" in out.stdout
    bad = subprocess.run([*run, "--port", "70000"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "between 1 and 65535" in bad.stderr


def test_old_annotated_images_are_pruned(tmp_path):
    import os
    import time

    from kneeoa_desktop.server.grading_service import GradingService

    service = GradingService(pipeline=None, out_dir=tmp_path, keep_hours=1)
    try:
        old, new = (service.results_dir / f"{c * 32}.png" for c in "ab")
        for path in (old, new):
            path.write_bytes(b"png")
        os.utime(old, (time.time() - 7200, time.time() - 7200))
        service._prune()
        assert not old.exists() and new.exists()
        assert service.result_path("b" * 32) == new and service.result_path("a" * 32) is None
    finally:
        service.close()
