"""A real HTTP server on 127.0.0.1 for download tests, and a folder snapshot to prove nothing changed.

The server serves ``server.payload`` in the manner ``server.mode`` names: ``ok``; ``404``;
``silent`` (accepts, never answers); ``drop`` (half the body, then the connection dies);
``drop-once`` (only the first request drops); ``trickle`` (16 KB every 50 ms, like a slow line).
It honours Range requests as a CDN does, so resumed downloads can be checked. It speaks plain
http, which the downloader allows only to the loopback address with
$KNEEOA_ALLOW_LOOPBACK_HTTP=1 (the fixture sets it).
"""

from __future__ import annotations

import hashlib

import http.server
import threading
import time
from pathlib import Path

import pytest

from kneeoa_desktop.core.model.manifest import DEFAULT_WEIGHTS_DIR, load_manifest, sha256_of

BUNDLED = load_manifest(DEFAULT_WEIGHTS_DIR)
MODEL_BYTES = BUNDLED.model_path.read_bytes()
# What the served file installs as: the bundled model itself when that is one network; one network
# of its own (the bundled version + the file's checksum, no figures) when the bundle is an ensemble.
DOWNLOADED_TAG = (BUNDLED.tag if not BUNDLED.members
                  else f"{BUNDLED.tag}+{hashlib.sha256(MODEL_BYTES).hexdigest()[:8]}")
DOWNLOADED_METRICS = BUNDLED.metrics if not BUNDLED.members else {}


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        server = self.server
        server.requests.append(dict(self.headers))
        mode, data = server.mode, server.payload
        if mode == "404":
            self.send_error(404, "Not Found")
            return
        if mode == "silent":
            server.release.wait(10)
            return
        start = 0
        if self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        try:
            if mode == "drop" or (mode == "drop-once" and len(server.requests) == 1):
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(2)  # the connection dies mid-transfer
            elif mode == "trickle":
                for i in range(0, len(body), 16384):
                    if server.release.is_set():
                        return
                    self.wfile.write(body[i:i + 16384])
                    time.sleep(0.05)
            else:
                self.wfile.write(body)
        except OSError:
            pass  # the client hung up (a cancelled download): nothing to report


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("KNEEOA_ALLOW_LOOPBACK_HTTP", "1")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.mode, httpd.payload, httpd.requests = "ok", MODEL_BYTES, []
    httpd.release = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/kneeoa-kl-cnn.keras"
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder``, by relative path."""
    return {str(p.relative_to(folder)): sha256_of(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def unchanged_bundle():
    """The bundled weights are never written to, whatever the test does."""
    before = snapshot(DEFAULT_WEIGHTS_DIR)
    yield
    assert snapshot(DEFAULT_WEIGHTS_DIR) == before, "the bundled weights must never be written to"
