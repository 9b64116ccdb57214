"""`kneeoa serve` as a hospital system meets it: a real process, real clients nobody here wrote.

One server process (the shipped model, an API key, a 2 MB upload cap, results on a 64 MB
tmpfs when the test may mount one) serves the whole module: curl and httpx for HTTP,
DCMTK's echoscu/storescu/dsrdump/dcmdump for DICOM, a second pynetdicom SCP on loopback as
the forward destination, and headless Chromium for the upload page. All traffic is on
127.0.0.1. The last test stops the server with SIGTERM and checks it closed cleanly.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install -e '.[server]')")
pytest.importorskip("pynetdicom", reason="the server extra is not installed (pip install -e '.[server]')")
httpx = pytest.importorskip("httpx", reason="httpx is not installed (it comes with the test extra)")

from kneeoa_desktop.core.model.manifest import DEFAULT_WEIGHTS_DIR, load_manifest  # noqa: E402

from .conftest import needs_data  # noqa: E402
from .samples import write_dicom  # noqa: E402

KEY = "test-key-0123456789abcdef"
AUTH = {"X-API-Key": KEY}
CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")
needs_dcmtk = pytest.mark.skipif(shutil.which("storescu") is None,
                                 reason="DCMTK is not installed (apt install dcmtk; .ci/run installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Live:
    url: str
    dicom_port: int
    out: Path
    on_tmpfs: bool
    process: subprocess.Popen
    stderr: Path
    forwarded: list


@pytest.fixture(scope="module")
def forward_destination():
    """A second DICOM node on loopback that keeps whatever is sent to it."""
    from pynetdicom import AE, AllStoragePresentationContexts, evt

    received = []

    def on_store(event):
        ds = event.dataset
        ds.file_meta = event.file_meta
        received.append(ds)
        return 0x0000

    ae = AE(ae_title="FWDDEST")
    ae.supported_contexts = AllStoragePresentationContexts
    port = _free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    yield port, received
    server.shutdown()


@pytest.fixture(scope="module")
def live(tmp_path_factory, forward_destination):
    out = tmp_path_factory.mktemp("serve-out")
    mounted = (os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(out)], capture_output=True).returncode == 0)
    port, dicom_port = _free_port(), _free_port()
    stderr = tmp_path_factory.mktemp("serve-log") / "stderr.txt"
    env = dict(os.environ, KNEEOA_API_KEY=KEY)
    command = [sys.executable, "-m", "kneeoa_desktop.cli", "serve", "--port", str(port), "--dicom-port",
               str(dicom_port), "--out", str(out), "--forward", f"FWDDEST@127.0.0.1:{forward_destination[0]}",
               "--max-upload-mb", "2"]
    with open(stderr, "wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while True:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"kneeoa serve did not start: {stderr.read_text()}")
        time.sleep(0.5)
    yield Live(url, dicom_port, out, mounted, process, stderr, forward_destination[1])
    if process.poll() is None:
        process.kill()
        process.wait(30)
    if mounted:
        subprocess.run(["umount", "-l", str(out)], capture_output=True)


def _sentence(response) -> str:
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.endswith(".") and "Traceback" not in detail, detail
    return detail


@needs_curl
def test_curl_predict_gives_the_original_keys_and_the_cli_records(live, predictor, knee_png):
    from kneeoa_desktop.core.pipeline import GradingPipeline

    out = subprocess.run([CURL, "-sS", "-H", f"X-API-Key: {KEY}", "-F", f"file=@{knee_png}",
                          f"{live.url}/predict?brightness=1.5"], capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert set(answer) == {"payload", "filenames", "results"}
    expected = [k.as_dict() for k in GradingPipeline(predictor)(knee_png).knees]
    for record in expected:
        record["file"] = knee_png.name
    assert answer["results"] == expected  # exactly what `kneeoa predict --json` prints
    assert answer["payload"] == [r["probabilities"] for r in expected]
    assert len(answer["payload"][0]) == 5
    # the annotated image is served at the URL given
    png = subprocess.run([CURL, "-sS", "-f", "-H", f"X-API-Key: {KEY}", answer["filenames"][0]],
                         capture_output=True, timeout=60)
    assert png.returncode == 0 and png.stdout.startswith(b"\x89PNG")
    image = cv2.imdecode(np.frombuffer(png.stdout, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[0] >= 224
    result_id = answer["filenames"][0].rsplit("/", 1)[1]
    assert (live.out / "results" / result_id).read_bytes() == png.stdout


@needs_data
def test_a_bilateral_film_gives_one_record_per_knee(live):
    from .test_localise import bilateral_film, _val_crop

    film, _ = bilateral_film(_val_crop("R"), _val_crop("L"))
    ok, png = cv2.imencode(".png", film)
    answer = httpx.post(live.url + "/predict", files={"file": ("bilateral.png", png.tobytes())}, headers=AUTH,
                        timeout=120).json()
    assert [r["knee"] for r in answer["results"]] == ["right", "left"]
    assert answer["payload"] == [r["probabilities"] for r in answer["results"]]
    assert len(answer["filenames"]) == 1  # one annotated film shows both knees
    assert all(r["in_scope"] and r["region"] != [0, 0, film.shape[1], film.shape[0]] for r in answer["results"])


def test_refusals_are_one_sentence_4xx(live, knee_png, tmp_path):
    post = lambda files, **kw: httpx.post(live.url + "/predict", files=files, headers=AUTH, timeout=60, **kw)  # noqa: E731
    data = knee_png.read_bytes()
    assert post({"file": ("notes.txt", b"KL grade notes\n")}).status_code == 415
    truncated = post({"file": ("half.png", data[: len(data) // 2])})
    assert truncated.status_code == 400 and "damaged or truncated" in _sentence(truncated)
    assert post({"file": ("empty.png", b"")}).status_code == 415
    big = post({"file": ("big.png", b"\0" * 2_100_000)})
    assert big.status_code == 413 and "larger than the 2 MB" in _sentence(big)
    bright = post({"file": ("k.png", data)}, params={"brightness": "9"})
    assert bright.status_code == 400 and "brightness" in _sentence(bright)
    missing = httpx.post(live.url + "/predict", data={"other": "x"}, headers=AUTH, timeout=60)
    assert missing.status_code == 400 and "'file'" in _sentence(missing)
    for path in ("/results/0123456789abcdef0123456789abcdef.png", "/results/..%2F..%2Fetc%2Fpasswd.png",
                 "/results/../../etc/passwd", "/nowhere"):
        response = httpx.get(live.url + path, headers=AUTH, timeout=30)
        assert response.status_code == 404, path
        _sentence(response)


def test_the_api_key_is_required_and_checked(live, knee_png):
    files = {"file": ("k.png", knee_png.read_bytes())}
    assert httpx.post(live.url + "/predict", files=files, timeout=60).status_code == 401
    wrong = httpx.post(live.url + "/predict", files=files, headers={"X-API-Key": KEY[:-1] + "x"}, timeout=60)
    assert wrong.status_code == 401 and "X-API-Key" in _sentence(wrong)
    assert httpx.get(live.url + "/model", timeout=30).status_code == 401
    # the page and the health check stay open: the page asks for the key itself
    assert httpx.get(live.url + "/", timeout=30).status_code == 200
    health = httpx.get(live.url + "/health", timeout=30).json()
    assert health["status"] == "ok" and health["auth_required"] is True


def test_model_and_docs(live):
    model = httpx.get(live.url + "/model", headers=AUTH, timeout=30).json()
    shipped = load_manifest(DEFAULT_WEIGHTS_DIR)
    assert model["model"] == shipped.tag and model["sha256"] == shipped.sha256 and model["device"]
    assert httpx.get(live.url + "/docs", headers=AUTH, timeout=30).status_code == 200
    schema = httpx.get(live.url + "/openapi.json", headers=AUTH, timeout=30).json()
    assert "/predict" in schema["paths"] and "/results/{result_id}.png" in schema["paths"]


def _raw(port: int, head: bytes, body: bytes, *, read: bool) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head + body)
        if not read:
            return b""
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_truncated_and_abandoned_uploads_leave_the_server_serving(live, knee_png):
    port = int(live.url.rsplit(":", 1)[1])
    data = knee_png.read_bytes()
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"k.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + data)  # no closing boundary: the upload was cut
    head = (f"POST /predict HTTP/1.1\r\nHost: x\r\nX-API-Key: {KEY}\r\nContent-Type: multipart/form-data; "
            f"boundary=XyZ\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    answer = _raw(port, head, body, read=True)
    assert answer.startswith(b"HTTP/1.1 400") and b"the upload was cut short" in answer
    # a client that promises more than it sends and then goes away
    liar = head.replace(f"Content-Length: {len(body)}".encode(), f"Content-Length: {len(body) * 3}".encode())
    for _ in range(3):
        _raw(port, liar, body, read=False)
    ok = httpx.post(live.url + "/predict", files={"file": ("k.png", data)}, headers=AUTH, timeout=120)
    assert ok.status_code == 200 and len(ok.json()["results"]) == 1


def test_concurrent_requests_are_all_answered(live, knee_png):
    data = knee_png.read_bytes()

    async def burst(n):
        async with httpx.AsyncClient(timeout=300, headers=AUTH) as client:
            return await asyncio.gather(*[client.post(live.url + "/predict", files={"file": (f"k{i}.png", data)})
                                          for i in range(n)])

    answers = asyncio.run(burst(16))
    assert [a.status_code for a in answers] == [200] * 16
    assert len({a.json()["filenames"][0] for a in answers}) == 16
    assert {a.json()["results"][0]["file"] for a in answers} == {f"k{i}.png" for i in range(16)}


def _dicom(pixels, path, **tags) -> Path:
    import pydicom

    write_dicom(pixels, path, patient_name="Roe^Richard", patient_id="MRN-998877")
    ds = pydicom.dcmread(path)
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.2"
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    ds.save_as(path, enforce_file_format=True)
    return path


def _new_files(folder: Path, before: set, suffix: str) -> list[Path]:
    return sorted(p for p in folder.glob(f"*{suffix}") if p not in before)


@needs_dcmtk
def test_storescu_film_comes_back_as_sc_and_sr(live, knee_pixels, tmp_path):
    assert subprocess.run(["echoscu", "-aec", "KNEEOA", "127.0.0.1", str(live.dicom_port)],
                          capture_output=True, timeout=60).returncode == 0
    path = _dicom(knee_pixels, tmp_path / "knee.dcm", ViewPosition="PA", ImageLaterality="R")
    before = set(live.out.iterdir())
    forwarded = len(live.forwarded)
    store = subprocess.run(["storescu", "-aec", "KNEEOA", "127.0.0.1", str(live.dicom_port), str(path)],
                           capture_output=True, text=True, timeout=120)
    assert store.returncode == 0, store.stdout + store.stderr
    (sr,) = _new_files(live.out, before, ".sr.dcm")
    (sc,) = _new_files(live.out, before, ".sc.dcm")
    report = subprocess.run(["dsrdump", "+Pl", str(sr)], capture_output=True, text=True, timeout=60).stdout
    assert "Comprehensive SR" in report and 'CODE:(,,"Laterality")=(24028007,SCT,"Right")' in report
    assert '"Kellgren-Lawrence grade")="' in report and "Decision support only" in report
    assert "Roe^Richard" in report  # the original patient
    dump = subprocess.run(["dcmdump", str(sc)], capture_output=True, text=True, timeout=60).stdout
    assert "SecondaryCaptureImageStorage" in dump and "MRN-998877" in dump
    assert "1.2.826.0.1.3680043.8.498.1]" in dump  # the original study
    assert "1.2.826.0.1.3680043.8.498.2]" not in dump.split("SourceImageSequence")[0]  # a new series
    # both were sent on to the forward destination
    sent = live.forwarded[forwarded:]
    assert sorted(ds.Modality for ds in sent) == ["OT", "SR"]
    assert all(ds.PatientID == "MRN-998877" for ds in sent)
    # and the patient's identifiers never reached the server's log or its stderr
    log_text = "".join(p.read_text(errors="replace") for p in Path(os.environ["KNEEOA_LOG_DIR"]).glob("*.log*"))
    for secret in ("Roe", "Richard", "MRN-998877"):
        assert secret not in log_text and secret not in live.stderr.read_text()


@needs_dcmtk
def test_lateral_film_gets_an_sr_that_says_so(live, knee_pixels, tmp_path):
    path = _dicom(knee_pixels, tmp_path / "lateral.dcm", ViewPosition="LL")
    before = set(live.out.iterdir())
    store = subprocess.run(["storescu", "-aec", "KNEEOA", "127.0.0.1", str(live.dicom_port), str(path)],
                           capture_output=True, text=True, timeout=120)
    assert store.returncode == 0, store.stdout + store.stderr
    (sr,) = _new_files(live.out, before, ".sr.dcm")
    report = subprocess.run(["dsrdump", "+Pl", str(sr)], capture_output=True, text=True, timeout=60).stdout
    assert "Not graded: This looks like a lateral view" in report
    assert '"Kellgren-Lawrence grade")' not in report


def test_malformed_dicom_is_refused_and_the_node_keeps_serving(live):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    from pynetdicom import AE

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.1.1", generate_uid()
    ds.PatientID, ds.Modality = "X", "DX"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 2000, 2000, 1
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = b"\x00\x01" * 50  # far fewer pixels than the header says
    ae = AE(ae_title="TESTSCU")
    ae.add_requested_context(ds.SOPClassUID, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", live.dicom_port, ae_title="KNEEOA")
    assert assoc.is_established
    status = assoc.send_c_store(ds)
    assoc.release()
    assert status.Status == 0xC000 and status.ErrorComment
    # a wrong called AE title is refused
    check = AE(ae_title="TESTSCU")
    check.add_requested_context("1.2.840.10008.1.1")  # Verification
    assert not check.associate("127.0.0.1", live.dicom_port, ae_title="SOMEONEELSE").is_established
    assoc = check.associate("127.0.0.1", live.dicom_port, ae_title="KNEEOA")
    echo_ok = assoc.is_established and assoc.send_c_echo().Status == 0
    assoc.release()
    assert echo_ok


def _store(port: int, path: Path) -> int:
    import pydicom
    from pynetdicom import AE

    ds = pydicom.dcmread(path)
    ae = AE(ae_title="TESTSCU")
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", port, ae_title="KNEEOA")
    assert assoc.is_established
    try:
        return assoc.send_c_store(ds).Status
    finally:
        assoc.release()


def test_a_full_output_disk_is_one_clear_error_and_recoverable(live, knee_png, knee_pixels, tmp_path):
    if not live.on_tmpfs:
        pytest.skip("needs root to mount a small tmpfs as the output folder")
    ballast = live.out / "ballast.bin"
    free = shutil.disk_usage(live.out).free
    with open(ballast, "wb") as handle:
        try:
            handle.write(b"\0" * max(0, free - 4096))
        except OSError:
            pass
    try:
        full = httpx.post(live.url + "/predict", files={"file": ("k.png", knee_png.read_bytes())},
                          headers=AUTH, timeout=120)
        assert full.status_code == 507 and "disk is full" in _sentence(full)
        assert str(live.out) not in full.text  # the server's folders are not the client's business
        assert _store(live.dicom_port, _dicom(knee_pixels, tmp_path / "full.dcm", ViewPosition="PA")) == 0xA700
        assert not list(live.out.rglob("*.part"))  # nothing half-written left behind
    finally:
        ballast.unlink()
    ok = httpx.post(live.url + "/predict", files={"file": ("k.png", knee_png.read_bytes())}, headers=AUTH,
                    timeout=120)
    assert ok.status_code == 200


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="no Chromium (apt install chromium; .ci/run installs it)")
def test_upload_page_in_headless_chromium(live, knee_png, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(live.url + "/")
            page.wait_for_selector("#keyrow", state="visible")  # the server asked for a key
            page.fill("#key", KEY)
            page.set_input_files("#file", str(knee_png))
            page.fill("#brightness", "2")
            page.click("#grade")
            page.wait_for_selector(".knee", timeout=120_000)
            card = page.inner_text(".knee")
            assert "KL" in card and "%" in card
            assert page.inner_text("#status").endswith("1 knee graded.")
            assert page.evaluate("document.getElementById('annotated').naturalWidth") >= 224
            shot = Path(os.environ.get("KNEEOA_SCREENSHOT_DIR", tmp_path)) / "server-upload-page.png"
            page.screenshot(path=str(shot), full_page=True)
            # a file that is no image: the page shows the server's sentence
            bad = tmp_path / "notes.png"
            bad.write_text("not an image")
            page.set_input_files("#file", str(bad))
            page.click("#grade")
            page.wait_for_selector("#status.error")
            assert "not a supported image" in page.inner_text("#status")
        finally:
            browser.close()


def test_sigterm_stops_cleanly(live):
    live.process.send_signal(signal.SIGTERM)
    assert live.process.wait(90) == 0
    text = live.stderr.read_text()
    assert "stopped (" in text and "Traceback" not in text
    assert not list(live.out.rglob("*.part"))
