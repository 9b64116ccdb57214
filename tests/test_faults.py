"""Faults the user's machine can throw at us: a broken model or manifest, a folder that refuses
writes, a full disk. Each must end as one sentence (exit 1 for `kneeoa`), leave the model folder
exactly as it was, and leave no partial or temporary file where an export was going.

Root ignores directory permissions and this machine's disk is not full, so the failures are
injected where the program meets the operating system (``os.open``, ``os.replace``, the write,
``fsync``) and only for paths inside the test's own target folder. tests/test_export.py covers
``tempfile.mkstemp`` denied and ``fsync`` failing through the core; this file adds the rest and
the same faults through ``kneeoa predict --overlay-dir`` / ``--csv``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import shutil
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from kneeoa_desktop.cli import common as cli_common
from kneeoa_desktop.cli import entry as cli
from kneeoa_desktop.cli import predict as cli_predict
from kneeoa_desktop.core import errors
from kneeoa_desktop.core.outputs.export import export_annotated
from kneeoa_desktop.core.model.manifest import DEFAULT_WEIGHTS_DIR, MANIFEST_NAME, load_manifest
from kneeoa_desktop.core.verdict.prediction import Prediction

from . import samples


def digests(folder: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file below ``folder``."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", autouse=True)
def shipped_weights_untouched():
    """Nothing in this module may change the real weights/ folder."""
    before = digests(DEFAULT_WEIGHTS_DIR)
    yield
    assert digests(DEFAULT_WEIGHTS_DIR) == before


def run_cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def assert_one_error_line(err: str, prefix: str = "kneeoa: ") -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith(prefix), lines[0]
    message = lines[0][len(prefix):]
    samples.check_one_sentence(message)
    return message


# --- model faults through `kneeoa --weights DIR` -------------------------------------------------

@pytest.fixture
def weights(tmp_path) -> Path:
    """A private copy of the shipped model and manifest (never the real weights/ folder)."""
    folder = tmp_path / "weights"
    folder.mkdir()
    manifest = load_manifest(DEFAULT_WEIGHTS_DIR)
    shutil.copy2(DEFAULT_WEIGHTS_DIR / MANIFEST_NAME, folder / MANIFEST_NAME)
    for member in manifest.member_list:  # every network of an ensemble, both engines' files
        for file in (member.file, member.onnx_file):
            if file:
                shutil.copy2(DEFAULT_WEIGHTS_DIR / file, folder / file)
    return folder


# Each engine reads its own file of the first network: the `.keras` (TensorFlow) or the exported
# graph (ONNX Runtime, the default), with its own checksum in the manifest.
ENGINE_KEYS = {"tensorflow": ("file", "sha256"), "onnx": ("onnx_file", "onnx_sha256")}


def _first(data: dict) -> dict:
    return data["members"][0] if data.get("members") else data


def _model(folder: Path, engine: str) -> Path:
    return folder / _first(json.loads((folder / MANIFEST_NAME).read_text()))[ENGINE_KEYS[engine][0]]


def _edit_manifest(folder: Path, **changes) -> None:
    data = json.loads((folder / MANIFEST_NAME).read_text())
    data.update(changes)
    (folder / MANIFEST_NAME).write_text(json.dumps(data))


def _edit_first(folder: Path, engine: str, key: int, value: str) -> None:
    """Set the first network's file name (key 0) or checksum (key 1) for ``engine``; an
    ensemble's top level names the same `.keras` file and checksum as its first member."""
    data = json.loads((folder / MANIFEST_NAME).read_text())
    name = ENGINE_KEYS[engine][key]
    _first(data)[name] = value
    if engine == "tensorflow":
        data[name] = value
    (folder / MANIFEST_NAME).write_text(json.dumps(data))


def _rehash(folder: Path, engine: str) -> None:
    """Make the manifest agree with a damaged model file, so the damage reaches the engine itself."""
    _edit_first(folder, engine, 1, hashlib.sha256(_model(folder, engine).read_bytes()).hexdigest())


def _truncate(folder: Path, engine: str) -> None:
    model = _model(folder, engine)
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])


def _flip_middle(folder: Path, engine: str) -> None:
    model = _model(folder, engine)
    data = bytearray(model.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
    model.write_bytes(bytes(data))


# fault: (damage(folder, engine), the words the one-line message must hold, per engine or for both)
MODEL_FAULTS = {
    "model missing": (lambda f, e: _model(f, e).unlink(), "missing"),
    "model truncated": (_truncate, "checksum"),
    "model corrupted mid-file": (_flip_middle, "checksum"),
    "manifest with a wrong sha256": (lambda f, e: _edit_first(f, e, 1, "0" * 64), "checksum"),
    "manifest naming a file elsewhere": (lambda f, e: _edit_first(f, e, 0, "../kneeoa-kl-cnn.keras"), "outside"),
    # The checksum matches, so the damage reaches Keras or ONNX Runtime themselves.
    "truncated model with a matching manifest": (lambda f, e: (_truncate(f, e), _rehash(f, e)), "cannot be loaded"),
    "corrupted model with a matching manifest": (lambda f, e: (_flip_middle(f, e), _rehash(f, e)),
                                                 "cannot be loaded"),
    "manifest with the wrong input size": (lambda f, e: _edit_manifest(f, input_size=[128, 128]),
                                           {"tensorflow": "shape", "onnx": "does not fit its manifest"}),
}
# Faults of the manifest itself come before any engine.
MANIFEST_FAULTS = {
    "manifest missing": (lambda f: (f / MANIFEST_NAME).unlink(), "missing"),
    "manifest garbled": (lambda f: (f / MANIFEST_NAME).write_bytes(b'{"name": "kneeoa-kl-cnn", "vers\xff\xfe'),
                         "damaged"),
    "manifest not JSON": (lambda f: (f / MANIFEST_NAME).write_text("<html>503 Service Unavailable</html>"),
                          "damaged"),
    "manifest without sha256": (lambda f: (f / MANIFEST_NAME).write_text('{"name": "x", "version": "1", '
                                                                          '"file": "m.keras"}'), "fields"),
    "manifest is a folder": (lambda f: ((f / MANIFEST_NAME).unlink(), (f / MANIFEST_NAME).mkdir()), "manifest"),
}


def _assert_refused_in_one_line(weights, knee_png, expected, *engine_args):
    before = digests(weights)
    code, out, err = run_cli(*engine_args, "--weights", weights, "predict", "--json", knee_png)
    assert code == 1
    assert out == ""  # no result, no table header
    message = assert_one_error_line(err)
    assert expected in message, message
    assert "Traceback" not in err
    assert digests(weights) == before  # nothing rewritten, renamed, or "repaired" in place


@pytest.mark.slow
@pytest.mark.parametrize("engine", sorted(ENGINE_KEYS))
@pytest.mark.parametrize("fault", sorted(MODEL_FAULTS))
def test_model_fault_is_one_line_and_changes_nothing(fault, engine, weights, knee_png):
    damage, expected = MODEL_FAULTS[fault]
    damage(weights, engine)
    expected = expected[engine] if isinstance(expected, dict) else expected
    _assert_refused_in_one_line(weights, knee_png, expected, "--engine", engine)


@pytest.mark.parametrize("fault", sorted(MANIFEST_FAULTS))
def test_manifest_fault_is_one_line_and_changes_nothing(fault, weights, knee_png):
    damage, expected = MANIFEST_FAULTS[fault]
    damage(weights)
    _assert_refused_in_one_line(weights, knee_png, expected)


@pytest.mark.slow
@pytest.mark.parametrize("engine", sorted(ENGINE_KEYS))
def test_model_fault_in_a_real_process_is_one_line(weights, knee_png, engine):
    """The same from a real process: no TensorFlow or ONNX Runtime chatter reaches stderr."""
    import subprocess

    _flip_middle(weights, engine)
    _rehash(weights, engine)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, "-m", "kneeoa_desktop.cli", "--engine", engine, "--weights",
                             str(weights), "predict", str(knee_png)], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 1 and result.stdout == ""
    assert "cannot be loaded" in assert_one_error_line(result.stderr)


# --- export faults: a folder that refuses writes, a full disk ------------------------------------

def _prediction() -> Prediction:
    rng = np.random.default_rng(3)
    return Prediction(np.array([0.1, 0.2, 0.4, 0.2, 0.1]), rng.random((14, 14, 5)).astype(np.float32),
                      "model@1.0", "CPU", source_name="knee.png")


def _error(code: int, text: str) -> OSError:
    return (PermissionError if code in (errno.EACCES, errno.EPERM) else OSError)(code, text)


class FaultyFile(io.RawIOBase):
    """A file object over a real descriptor whose write stores half the data, then fails."""

    def __init__(self, fd: int, code: int):
        self._file = io.FileIO(fd, "wb")
        self._code = code

    def write(self, data) -> int:
        self._file.write(bytes(data)[: len(data) // 2])  # a partial file really exists on disk
        raise _error(self._code, os.strerror(self._code))

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


@contextlib.contextmanager
def faults_in(folder: Path, fault: str):
    """Make one operating-system call fail, only for paths inside ``folder``."""
    folder = str(folder.resolve())

    def inside(path) -> bool:
        return isinstance(path, (str, bytes, os.PathLike)) and os.path.abspath(os.fsdecode(path)).startswith(folder)

    real_open, real_replace, real_fdopen, real_fsync = os.open, os.replace, os.fdopen, os.fsync
    watched: set[int] = set()

    def fake_open(path, flags, mode=0o777, *, dir_fd=None):
        if fault == "open: permission" and inside(path):
            raise _error(errno.EACCES, "Permission denied")
        if fault == "open: read-only file system" and inside(path):
            raise _error(errno.EROFS, "Read-only file system")
        fd = real_open(path, flags, mode, dir_fd=dir_fd)
        if inside(path):
            watched.add(fd)
        return fd

    def fake_replace(src, dst, **kwargs):
        if fault == "rename: permission" and inside(dst):
            raise _error(errno.EACCES, "Permission denied")
        return real_replace(src, dst, **kwargs)

    def fake_fdopen(fd, *args, **kwargs):
        if fault in ("write: disk full", "write: quota") and fd in watched:
            return FaultyFile(fd, errno.ENOSPC if fault == "write: disk full" else errno.EDQUOT)
        return real_fdopen(fd, *args, **kwargs)

    def fake_fsync(fd):
        if fault == "fsync: disk full" and fd in watched:
            raise _error(errno.ENOSPC, "No space left on device")
        if fault == "fsync: I/O error" and fd in watched:
            raise _error(errno.EIO, "Input/output error")
        return real_fsync(fd)

    with mock.patch.object(os, "open", fake_open), mock.patch.object(os, "replace", fake_replace), \
            mock.patch.object(os, "fdopen", fake_fdopen), mock.patch.object(os, "fsync", fake_fsync):
        yield


EXPORT_FAULTS = {
    "open: permission": "permission denied",
    "open: read-only file system": "read-only",
    "rename: permission": "permission denied",
    "write: disk full": "full",
    "write: quota": "full",
    "fsync: disk full": "full",
    "fsync: I/O error": "could not be written",
}


@pytest.mark.parametrize("fault", sorted(EXPORT_FAULTS))
def test_export_fault_leaves_nothing_behind(fault, tmp_path, knee_pixels):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "older.png").write_bytes(b"an earlier export")  # must survive as it was
    before = digests(folder)
    with faults_in(folder, fault), pytest.raises(errors.ExportError) as info:
        export_annotated(knee_pixels, _prediction(), folder / "knee_kneeoa.png")
    samples.check_one_sentence(str(info.value))
    assert EXPORT_FAULTS[fault] in str(info.value)
    assert digests(folder) == before  # no partial file, no temporary file


@pytest.mark.parametrize("fault", ["rename: permission", "write: disk full"])
def test_a_failed_export_keeps_the_previous_file_whole(fault, tmp_path, knee_pixels):
    target = tmp_path / "knee_kneeoa.png"
    export_annotated(knee_pixels, _prediction(), target)
    before = digests(tmp_path)
    with faults_in(tmp_path, fault), pytest.raises(errors.ExportError):
        export_annotated(knee_pixels, _prediction(), target, brightness=3.0)
    assert digests(tmp_path) == before


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(EXPORT_FAULTS))
def test_cli_overlay_fault_is_one_line_and_leaves_nothing(fault, tmp_path, knee_png, predictor):
    source = tmp_path / "in" / "knee.png"
    source.parent.mkdir()
    source.write_bytes(knee_png.read_bytes())
    out_dir = tmp_path / "overlays"
    out_dir.mkdir()
    with mock.patch.object(cli_common, "predictor_for", lambda args: predictor), faults_in(out_dir, fault):
        code, out, err = run_cli("predict", "--json", "--overlay-dir", out_dir, source)
    assert code == 1
    assert out == ""  # the file failed as a whole: no result line for it
    message = assert_one_error_line(err, f"kneeoa: {source}: ")
    assert EXPORT_FAULTS[fault] in message
    assert list(out_dir.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["open: permission", "write: disk full"])
def test_cli_csv_fault_is_one_line_and_leaves_nothing(fault, tmp_path, knee_png, predictor):
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    with mock.patch.object(cli_common, "predictor_for", lambda args: predictor), faults_in(out_dir, fault):
        code, out, err = run_cli("predict", "--csv", out_dir / "r.csv", knee_png)
    assert code == 1
    assert_one_error_line(err, f"kneeoa: {out_dir / 'r.csv'}: ")
    assert list(out_dir.iterdir()) == []


@pytest.mark.slow
def test_cli_overlays_written_beside_grading_keep_order_and_failures(tmp_path, knee_png, predictor):
    """`predict --overlay-dir` writes one film's PNG while grading the next: a film whose export
    fails and one that cannot be read are each one error line, in the order given, and only the
    films whose PNG was written print results."""
    folder = tmp_path / "in"
    folder.mkdir()
    names = ["a.png", "b.png", "c.png", "d.png"]
    for name in names:
        (folder / name).write_bytes(knee_png.read_bytes())
    (folder / "b.png").write_bytes(b"\x89PNG broken")
    real_write = cli_predict._write_overlay

    def failing_for_c(result, path, *args):
        if path.name == "c.png":
            raise errors.ExportError("The annotated image could not be written.")
        return real_write(result, path, *args)

    out_dir = tmp_path / "overlays"
    with mock.patch.object(cli_common, "predictor_for", lambda args: predictor), \
            mock.patch.object(cli_predict, "_write_overlay", failing_for_c):
        code, out, err = run_cli("predict", "--json", "--overlay-dir", out_dir,
                                 *(folder / name for name in names))
    assert code == 1
    assert [Path(json.loads(line)["file"]).name for line in out.splitlines()] == ["a.png", "d.png"]
    errors_printed = [line for line in err.splitlines() if line.startswith("kneeoa: ")]
    assert [Path(line.split(": ")[1]).name for line in errors_printed] == ["b.png", "c.png"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["a_kneeoa.png", "d_kneeoa.png"]


@pytest.mark.slow
def test_cli_overlays_written_out_of_order_still_print_in_order(tmp_path, knee_png, predictor):
    """Two PNGs may be drawn at once: when the first film's PNG is the slower, the records still
    come out in the order the files were given, and every PNG gets its own name."""
    import time

    paths = []
    for i, name in enumerate(["first.png", "second.png", "third.png"]):
        folder = tmp_path / f"in{i}"
        folder.mkdir()
        paths.append(folder / (name if i < 2 else "first.png"))  # the same name from two folders
        paths[-1].write_bytes(knee_png.read_bytes())
    real_write = cli_predict._write_overlay

    def slow_first(result, path, target, *args):
        if path == paths[0]:
            time.sleep(1.0)  # the second starts meanwhile on the other writer
        return real_write(result, path, target, *args)

    out_dir = tmp_path / "overlays"
    with mock.patch.object(cli_common, "predictor_for", lambda args: predictor), \
            mock.patch.object(cli_predict, "_write_overlay", slow_first):
        code, out, err = run_cli("predict", "--json", "--overlay-dir", out_dir, *paths)
    assert code == 0, err
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(p) for p in paths]
    assert sorted(p.name for p in out_dir.iterdir()) == ["first_kneeoa-2.png", "first_kneeoa.png",
                                                          "second_kneeoa.png"]


def test_export_where_chmod_is_refused(tmp_path, knee_pixels):
    """vfat/exFAT mounts (without `quiet`) and some SMB/FUSE mounts answer chmod with EPERM while
    files can be written there: the export should still succeed, with the default mode."""
    real_chmod = os.chmod

    def refused(path, mode, **kwargs):
        if os.path.abspath(os.fsdecode(path)).startswith(str(tmp_path)):
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return real_chmod(path, mode, **kwargs)

    with mock.patch.object(os, "chmod", refused):
        written = export_annotated(knee_pixels, _prediction(), tmp_path / "x.png")
    assert written.is_file()
