"""`kneeoa serve` beside a real PACS: Orthanc routes knee films to it and receives the results.

    .venv/bin/python scripts/orthanc_demo.py [--image FILE]      (needs Orthanc: apt install orthanc)

Runs what the README's "Beside a PACS" section describes, on loopback with free ports:
Orthanc starts with ``kneeoa`` in its DicomModalities and a Lua rule that sends every stored DX
or CR image to it; `kneeoa serve --forward ORTHANC@127.0.0.1:PORT` grades the film and sends its
Secondary Capture and Structured Report back. A knee film is uploaded to Orthanc over its REST
API, and the script prints the study's series as Orthanc then lists them. Exit status 0 when
the SR and the SC arrived in the film's study.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LUA = """
function OnStoredInstance(instanceId, tags, metadata, origin)
  -- Knee films go to KneeOA; its own results (modality SR and OT) are not sent back to it.
  if tags['Modality'] == 'DX' or tags['Modality'] == 'CR' then
    SendToModality(instanceId, 'kneeoa')
  end
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default=str(REPO / "resources" / "samples" / "kneeKL224-KL4-9070207R.png"))
    args = parser.parse_args()
    orthanc = shutil.which("Orthanc")
    if orthanc is None:
        print("Orthanc is not installed (Debian/Ubuntu: apt install orthanc)")
        return 2
    import cv2
    import httpx

    from tests.samples import write_dicom

    work = Path(tempfile.mkdtemp(prefix="kneeoa-orthanc-"))
    http_port, orthanc_dicom, kneeoa_http, kneeoa_dicom = (free_port() for _ in range(4))
    (work / "route.lua").write_text(LUA)
    config = {
        "Name": "KneeOA demo PACS", "StorageDirectory": str(work / "db"), "IndexDirectory": str(work / "db"),
        "HttpPort": http_port, "DicomPort": orthanc_dicom, "DicomAet": "ORTHANC", "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False, "LuaScripts": [str(work / "route.lua")], "Plugins": [],
        "DicomModalities": {"kneeoa": ["KNEEOA", "127.0.0.1", kneeoa_dicom]},
    }
    (work / "orthanc.json").write_text(json.dumps(config))
    env = dict(os.environ, KNEEOA_LOG_DIR=str(work / "log"))
    env.pop("KNEEOA_API_KEY", None)
    pacs = subprocess.Popen([orthanc, str(work / "orthanc.json")], stdout=subprocess.DEVNULL,
                            stderr=open(work / "orthanc.log", "wb"))
    kneeoa = subprocess.Popen([sys.executable, "-m", "kneeoa_desktop.cli", "serve", "--port", str(kneeoa_http),
                               "--dicom-port", str(kneeoa_dicom), "--out", str(work / "kneeoa-out"),
                               "--forward", f"ORTHANC@127.0.0.1:{orthanc_dicom}"],
                              stdout=subprocess.DEVNULL, stderr=open(work / "kneeoa.log", "wb"), env=env)
    rest = f"http://127.0.0.1:{http_port}"
    ok = False
    try:
        deadline = time.monotonic() + 300
        for url in (rest + "/system", f"http://127.0.0.1:{kneeoa_http}/health"):
            while True:
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    print("a server did not start; logs in", work)
                    return 1
                time.sleep(0.5)
        film = write_dicom(cv2.imread(args.image, cv2.IMREAD_GRAYSCALE), work / "knee.dcm",
                           patient_name="Demo^Patient", patient_id="DEMO-1")
        import pydicom
        from pydicom.uid import generate_uid

        ds = pydicom.dcmread(film)  # what a modality would send: a study, a series, a PA view
        ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
        ds.ViewPosition, ds.StudyDescription = "PA", "Knee PA"
        ds.save_as(film, enforce_file_format=True)
        uploaded = httpx.post(rest + "/instances", content=film.read_bytes(), timeout=60).json()
        study = uploaded["ParentStudy"]
        print(f"film stored in Orthanc: study {study}")
        for _ in range(240):  # Orthanc routes, KneeOA grades and sends back
            series = httpx.get(f"{rest}/studies/{study}/series", timeout=30).json()
            modalities = sorted(s["MainDicomTags"].get("Modality", "") for s in series)
            if {"SR", "OT"} <= set(modalities):
                break
            time.sleep(0.5)
        for s in series:
            tags = s["MainDicomTags"]
            print(f"  series {tags.get('SeriesNumber', '?'):>5} {tags.get('Modality', '?'):3} "
                  f"{tags.get('SeriesDescription', '')}")
        sr = next((s for s in series if s["MainDicomTags"].get("Modality") == "SR"), None)
        ok = sr is not None and any(s["MainDicomTags"].get("Modality") == "OT" for s in series)
        if sr is not None:
            instance = sr["Instances"][0]
            content = httpx.get(f"{rest}/instances/{instance}/file", timeout=30).content
            (work / "report.dcm").write_bytes(content)
            if shutil.which("dsrdump"):
                report = subprocess.run(["dsrdump", "+Pl", str(work / "report.dcm")], capture_output=True,
                                        text=True).stdout
                print("\n".join(line for line in report.splitlines() if "grade" in line or "Finding" in line))
    finally:
        for process in (kneeoa, pacs):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("PASS: the SR and the Secondary Capture are in the film's study" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
