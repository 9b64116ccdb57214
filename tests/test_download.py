"""Model downloads against a real HTTP server on 127.0.0.1: good, wrong checksum, dropped, 404, silent.

Each case must end in its documented state, with the model in use and the bundled weights
untouched. The server speaks plain http, which the downloader allows only to the loopback
address and only with $KNEEOA_ALLOW_LOOPBACK_HTTP=1 (set here); https is what users get.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time

import pytest

from kneeoa_desktop.cli import common as cli_common
from kneeoa_desktop.cli import entry as cli
from kneeoa_desktop.core.model import download, model_store
from kneeoa_desktop.core.errors import DownloadCancelledError, DownloadError
from kneeoa_desktop.core.model.manifest import sha256_of

from .model_server import (BUNDLED, DOWNLOADED_METRICS, DOWNLOADED_TAG, MODEL_BYTES, server,  # noqa: F401
                           snapshot, unchanged_bundle)

MODEL_SHA = hashlib.sha256(MODEL_BYTES).hexdigest()


def no_check(manifest) -> None:
    """Skip the (seconds-long) TensorFlow load where a test is about the transfer, not the file."""


@pytest.fixture(autouse=True)
def fresh_data_dir(tmp_path, monkeypatch):
    """Each test starts with no downloaded model (and never touches the real user folder)."""
    monkeypatch.setenv("KNEEOA_DATA_DIR", str(tmp_path / "userdata"))
    yield tmp_path / "userdata"


@pytest.mark.slow
def test_good_download_installs_and_activates_the_model(server, unchanged_bundle):
    seen = []
    manifest = download.download_model(server.url, MODEL_SHA, progress=lambda got, total: seen.append((got, total)))
    active = model_store.active_model()
    assert active.origin == "downloaded" and active.source == server.url
    assert manifest.directory == active.directory
    assert sha256_of(manifest.model_path) == MODEL_SHA
    assert manifest.tag == DOWNLOADED_TAG and manifest.metrics == DOWNLOADED_METRICS
    assert not manifest.members  # a download is one network
    assert seen and seen[-1] == (len(MODEL_BYTES), len(MODEL_BYTES))
    assert not list(model_store.downloads_dir().iterdir())  # nothing left half-way
    # The front doors' default (no --weights) now loads it.
    assert cli_common.predictor_for(argparse.Namespace(weights=None)).manifest.directory == active.directory


def test_a_different_file_gets_its_own_version_and_no_borrowed_metrics(server):
    server.payload = MODEL_BYTES + b"\0"  # stands in for a newer release
    sha = hashlib.sha256(server.payload).hexdigest()
    manifest = download.download_model(server.url, sha, version="0.3.0", validate=no_check)
    assert manifest.version == "0.3.0" and manifest.sha256 == sha
    assert manifest.metrics == {} and "not the model described" in manifest.description
    manifest.verify()


def test_wrong_checksum_is_deleted_and_changes_nothing(server, unchanged_bundle):
    first = download.download_model(server.url, MODEL_SHA, validate=no_check)  # a model in use
    before = snapshot(first.directory)
    server.payload = b"not the model" * 1000
    with pytest.raises(DownloadError, match="does not match the expected SHA-256"):
        download.download_model(server.url, hashlib.sha256(b"something else").hexdigest(), validate=no_check)
    assert model_store.active_model().directory == first.directory
    assert snapshot(first.directory) == before
    assert not list(model_store.downloads_dir().iterdir())  # the wrong bytes are gone


def test_dropped_connection_keeps_the_part_and_the_next_attempt_resumes(server, unchanged_bundle):
    server.mode = "drop"
    with pytest.raises(DownloadError, match="failed or dropped.*resumes"):
        download.download_model(server.url, MODEL_SHA, retries=0, validate=no_check)
    assert model_store.active_model().bundled
    parts = list(model_store.downloads_dir().glob("*.part"))
    assert len(parts) == 1 and 0 < parts[0].stat().st_size < len(MODEL_BYTES)
    kept = parts[0].stat().st_size

    server.mode, server.requests = "ok", []
    manifest = download.download_model(server.url, MODEL_SHA, retries=0, validate=no_check)
    # gdown opens the URL once to learn its size, then asks only for the missing bytes.
    assert server.requests[-1].get("Range") == f"bytes={kept}-"  # resumed, not restarted
    assert sha256_of(manifest.model_path) == MODEL_SHA
    assert model_store.active_model().origin == "downloaded"


def test_a_drop_is_retried_within_one_attempt(server):
    server.mode = "drop-once"
    manifest = download.download_model(server.url, MODEL_SHA, retries=2, validate=no_check)
    assert len(server.requests) == 2 and server.requests[1].get("Range", "").startswith("bytes=")
    assert not list(model_store.downloads_dir().iterdir())
    assert sha256_of(manifest.model_path) == MODEL_SHA


def test_404_changes_nothing(server, unchanged_bundle):
    server.mode = "404"
    with pytest.raises(DownloadError, match=r"refused the download \(HTTP 404 Not Found\)"):
        download.download_model(server.url, MODEL_SHA, retries=0, validate=no_check)
    assert model_store.active_model().bundled
    assert not list(model_store.downloads_dir().glob("*.keras"))


def test_silent_server_times_out(server, unchanged_bundle):
    server.mode = "silent"
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"did not answer within 0.5 s"):
        download.download_model(server.url, MODEL_SHA, timeout=0.5, retries=0, validate=no_check)
    assert time.monotonic() - start < 8
    assert model_store.active_model().bundled


def test_cancel_stops_the_transfer_and_installs_nothing(server):
    server.mode = "trickle"
    cancel = threading.Event()

    def progress(got, total):
        if got > 20_000:
            cancel.set()

    with pytest.raises(DownloadCancelledError, match="cancelled"):
        download.download_model(server.url, MODEL_SHA, progress=progress, cancel=cancel, validate=no_check)
    assert model_store.active_model().bundled


def test_a_file_that_is_no_model_is_not_installed(server):
    server.payload = b"PK\x03\x04 not really a keras archive" * 100
    sha = hashlib.sha256(server.payload).hexdigest()
    with pytest.raises(DownloadError, match="cannot be used"):
        download.download_model(server.url, sha, retries=0)  # the real load check
    assert model_store.active_model().bundled
    assert not list(model_store.downloads_dir().glob("*.keras"))


@pytest.mark.parametrize("source, message", [
    ("http://example.com/model.keras", "must use https"),
    ("ftp://example.com/model.keras", "neither an https URL"),
    ("file:///etc/passwd", "neither an https URL"),
    ("not a url", "neither an https URL"),
])
def test_only_https_sources_are_accepted(source, message):
    with pytest.raises(DownloadError, match=message):
        download.download_model(source, MODEL_SHA, validate=no_check)


def test_loopback_http_needs_the_test_switch(monkeypatch):
    monkeypatch.delenv("KNEEOA_ALLOW_LOOPBACK_HTTP", raising=False)
    with pytest.raises(DownloadError, match="must use https"):
        download.resolve_source("http://127.0.0.1:9/model.keras")
    assert download.resolve_source("1AbCdEfGhIjKlMnOpQrStUvWxYz") == \
        "https://drive.google.com/uc?id=1AbCdEfGhIjKlMnOpQrStUvWxYz"


@pytest.mark.parametrize("version", ["../escape", "a/b", "", "x" * 41, ".hidden"])
def test_a_version_cannot_leave_the_models_folder(server, version):
    with pytest.raises(DownloadError, match="version may hold only"):
        download.download_model(server.url, MODEL_SHA, version=version, validate=no_check)
    assert not model_store.models_dir().exists()


def test_checksum_must_be_sha256_hex():
    with pytest.raises(DownloadError, match="64 hexadecimal"):
        download.download_model("https://example.com/m.keras", "abc123", validate=no_check)


def test_restore_bundled_keeps_downloads_and_a_broken_pointer_is_not_followed(server, fresh_data_dir):
    manifest = download.download_model(server.url, MODEL_SHA, validate=no_check)
    model_store.restore_bundled()
    assert model_store.active_model().bundled
    assert manifest.model_path.is_file()  # restoring deletes nothing
    (model_store.models_dir() / model_store.ACTIVE_NAME).write_text(json.dumps({"directory": "../../etc"}))
    assert model_store.active_model().bundled


# --- the CLI front door ---------------------------------------------------------------------

def test_cli_download_and_restore(server, capsys, monkeypatch):
    monkeypatch.setattr(download, "_load_with_predictor", no_check)
    assert cli.main(["download-weights", "--url", server.url, "--sha256", MODEL_SHA, "--retries", "0"]) == 0
    out = capsys.readouterr().out
    assert "now in use" in out and MODEL_SHA[:12] in out
    assert model_store.active_model().origin == "downloaded"
    assert cli.main(["restore-model"]) == 0
    assert "bundled model" in capsys.readouterr().out
    assert model_store.active_model().bundled


@pytest.mark.parametrize("mode", ["404", "drop", "wrong-sha"])
def test_cli_download_failures_are_one_line_and_exit_1(server, capsys, mode):
    server.mode = "ok" if mode == "wrong-sha" else mode
    sha = "0" * 64 if mode == "wrong-sha" else MODEL_SHA
    code = cli.main(["download-weights", "--url", server.url, "--sha256", sha, "--retries", "0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("kneeoa: ")
    assert "model in use is unchanged" in err[0]
    assert model_store.active_model().bundled


def test_cli_needs_url_and_sha_together(capsys):
    assert cli.main(["download-weights", "--url", "https://example.com/m.keras"]) == 2
    assert "together" in capsys.readouterr().err


def test_cli_without_a_configured_source_says_so(capsys):
    if BUNDLED.download_url:
        pytest.skip("the bundled manifest names a download source")
    assert cli.main(["download-weights"]) == 1
    assert "names no download source" in capsys.readouterr().err
