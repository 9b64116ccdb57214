"""Load and faults for `kneeoa serve`: prints its figures (issue 13's "Done when").

    .venv/bin/python scripts/server_load.py [--requests 200] [--stores 100] [--image FILE]

Starts a real `kneeoa serve` (loopback, the shipped model; its output folder on a 768 MB tmpfs
when run as root so that a full disk can be staged), then:
1. fires N concurrent `POST /predict` (httpx, one connection each) and counts the answers;
2. sends M C-STOREs over 10 concurrent associations (pynetdicom) and counts the statuses;
3. stages the faults: a malformed DICOM, a truncated upload, clients that vanish mid-upload,
   a full output disk; each must give one clear error while the server keeps serving;
and prints the server's resident memory (VmRSS) after warm-up, after each phase and at the end.
Exit status 0 when every request was answered as expected and memory grew by under 100 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dicom_dataset(pixels, view="PA"):
    import io

    import pydicom

    from tests.samples import write_dicom

    with tempfile.TemporaryDirectory() as folder:
        path = write_dicom(pixels, Path(folder) / "k.dcm")
        ds = pydicom.dcmread(io.BytesIO(path.read_bytes()))
    ds.ViewPosition = view
    return ds


def http_burst(url: str, data: bytes, n: int) -> tuple[dict, float, list[float]]:
    import httpx

    async def one(client, i):
        start = time.perf_counter()
        try:
            response = await client.post(url + "/predict", files={"file": (f"load{i}.png", data)})
            return response.status_code, time.perf_counter() - start
        except httpx.HTTPError as exc:
            return type(exc).__name__, time.perf_counter() - start

    async def run():
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=900, limits=limits) as client:
            return await asyncio.gather(*[one(client, i) for i in range(n)])

    start = time.perf_counter()
    answers = asyncio.run(run())
    wall = time.perf_counter() - start
    counts: dict = {}
    for status, _ in answers:
        counts[status] = counts.get(status, 0) + 1
    return counts, wall, sorted(t for _, t in answers)


def dicom_burst(port: int, ds, n: int, associations: int = 10) -> tuple[dict, float]:
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    from pynetdicom import AE

    counts: dict = {}
    lock = threading.Lock()

    def worker(share: int):
        ae = AE(ae_title="LOADSCU")
        ae.add_requested_context(ds.SOPClassUID, ExplicitVRLittleEndian)
        ae.dimse_timeout = ae.network_timeout = 900
        assoc = ae.associate("127.0.0.1", port, ae_title="KNEEOA")
        if not assoc.is_established:
            with lock:
                counts["association refused"] = counts.get("association refused", 0) + share
            return
        for _ in range(share):
            one = copy.deepcopy(ds)
            one.SOPInstanceUID = generate_uid()
            status = assoc.send_c_store(one)
            key = f"0x{status.Status:04X}" if status else "no answer"
            with lock:
                counts[key] = counts.get(key, 0) + 1
        assoc.release()

    shares = [n // associations + (1 if i < n % associations else 0) for i in range(associations)]
    threads = [threading.Thread(target=worker, args=(s,)) for s in shares if s]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts, time.perf_counter() - start


def raw_http(port: int, payload: bytes, read: bool) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(payload)
        if not read:
            return b""
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--image", default=str(REPO / "resources" / "samples" / "kneeKL224-KL2-9015402R.png"))
    args = parser.parse_args()

    import cv2
    import httpx

    image = Path(args.image)
    data = image.read_bytes()
    pixels = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
    work = Path(tempfile.mkdtemp(prefix="kneeoa-load-"))
    out = work / "out"
    out.mkdir()
    on_tmpfs = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=768m", "tmpfs", str(out)], capture_output=True).returncode == 0
    port, dicom_port = free_port(), free_port()
    env = dict(os.environ, KNEEOA_LOG_DIR=str(work / "log"), KNEEOA_DATA_DIR=str(work / "data"))
    env.pop("KNEEOA_API_KEY", None)
    server = subprocess.Popen([sys.executable, "-m", "kneeoa_desktop.cli", "serve", "--port", str(port),
                               "--dicom-port", str(dicom_port), "--out", str(out)],
                              stdout=subprocess.DEVNULL, stderr=open(work / "stderr.txt", "wb"), env=env)
    url = f"http://127.0.0.1:{port}"
    ok = True
    try:
        for _ in range(480):
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            print("server did not start:", (work / "stderr.txt").read_text())
            return 1
        print(f"image {image.name}; output on {'a 768 MB tmpfs' if on_tmpfs else 'disk'}")
        for i in range(5):  # warm-up: first gradings allocate TensorFlow's and the allocator's pools
            httpx.post(url + "/predict", files={"file": ("warm.png", data)}, timeout=300)
        base = rss_mb(server.pid)
        print(f"RSS after warm-up                 {base:8.1f} MB")

        counts, wall, times = http_burst(url, data, args.requests)
        answered = counts.get(200, 0)
        ok &= answered == args.requests
        print(f"{args.requests} concurrent /predict      answered {answered}/{args.requests} {counts}; "
              f"{wall:.1f} s wall, {args.requests / wall:.1f}/s, latency median {times[len(times) // 2]:.1f} s, "
              f"max {times[-1]:.1f} s")
        print(f"RSS after the HTTP burst          {rss_mb(server.pid):8.1f} MB")
        for result in (out / "results").glob("*.png"):  # keep the tmpfs for the DICOM phase
            result.unlink()

        ds = dicom_dataset(pixels)
        counts, wall = dicom_burst(dicom_port, ds, args.stores)
        stored = counts.get("0x0000", 0)
        ok &= stored == args.stores
        print(f"{args.stores} C-STOREs (10 associations) answered {stored}/{args.stores} success {counts}; "
              f"{wall:.1f} s wall, {args.stores / wall:.1f}/s")
        print(f"RSS after the DICOM burst         {rss_mb(server.pid):8.1f} MB")
        for result in list(out.glob("*.dcm")) + list((out / "results").glob("*.png")):
            result.unlink()

        # --- faults ---
        from pydicom.uid import generate_uid

        broken = copy.deepcopy(ds)
        broken.SOPInstanceUID = generate_uid()
        broken.PixelData = b"\x00\x01" * 50
        counts, _ = dicom_burst(dicom_port, broken, 1, associations=1)
        ok &= counts == {"0xC000": 1}
        print(f"malformed DICOM                   {counts} (0xC000: cannot understand)")

        body = (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"k.png\"\r\n"
                b"Content-Type: image/png\r\n\r\n" + data)
        head = ("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        answer = raw_http(port, head + body, read=True)
        first = answer.split(b"\r\n", 1)[0].decode()
        detail = answer.rsplit(b"\r\n\r\n", 1)[-1].decode()
        ok &= first.startswith("HTTP/1.1 400")
        print(f"truncated upload                  {first}: {detail}")

        liar = head.replace(f"Content-Length: {len(body)}".encode(), f"Content-Length: {len(body) * 4}".encode())
        for _ in range(20):
            raw_http(port, liar + body, read=False)
        alive = httpx.get(url + "/health", timeout=30).status_code == 200
        ok &= alive
        print(f"20 clients gone mid-upload        server {'still serving' if alive else 'NOT serving'}")

        if on_tmpfs:
            ballast = out / "ballast.bin"
            free = shutil.disk_usage(out).free
            with open(ballast, "wb") as handle:
                try:
                    handle.write(b"\0" * max(0, free - 4096))
                except OSError:
                    pass
            full = httpx.post(url + "/predict", files={"file": ("k.png", data)}, timeout=300)
            counts, _ = dicom_burst(dicom_port, ds, 1, associations=1)
            ballast.unlink()
            again = httpx.post(url + "/predict", files={"file": ("k.png", data)}, timeout=300)
            ok &= full.status_code == 507 and counts == {"0xA700": 1} and again.status_code == 200
            print(f"full output disk                  HTTP {full.status_code}: {full.json()['detail']} "
                  f"DICOM {counts}; after freeing space HTTP {again.status_code}")
        else:
            print("full output disk                  not staged (needs root to mount a tmpfs)")

        end = rss_mb(server.pid)
        growth = end - base
        ok &= growth < 100 and server.poll() is None
        print(f"RSS at the end                    {end:8.1f} MB (growth {growth:+.1f} MB over the run)")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(120)
        except subprocess.TimeoutExpired:
            server.kill()
            code = "killed"
        print(f"server stopped with SIGTERM: exit {code}")
        ok &= code == 0
        if on_tmpfs:
            subprocess.run(["umount", "-l", str(out)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
