"""The `kneeoa` command: output formats, exit codes, one-line errors, info and evaluate."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from kneeoa_desktop.cli.entry import main
from kneeoa_desktop.core.film.imaging import load_image

from . import samples
from .conftest import DATA_DIR, needs_data

REPO = Path(__file__).resolve().parents[1]


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_json_matches_the_core(capsys, knee_png, predictor):
    code, out, err = run(capsys, "predict", "--json", knee_png)
    assert code == 0 and err == ""
    record = json.loads(out.strip())
    assert {"file", "probabilities", "grade", "oa_probability", "model"} <= set(record)
    core = predictor.predict(load_image(knee_png))
    np.testing.assert_allclose(record["probabilities"], core.probabilities, atol=1e-5)
    assert record["grade"] == core.grade and record["model"] == core.model
    assert record["oa_probability"] == pytest.approx(core.oa_probability, abs=1e-5)
    assert record["file"] == str(knee_png)


def test_predict_table_csv_and_overlays(capsys, tmp_path, knee_png, knee_pixels):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(knee_png.read_bytes())
    samples.write_dicom(knee_pixels, folder / "sub" / "IM0001")  # no extension: found by content
    (folder / "notes.txt").write_text("not an image")  # skipped when walking
    code, out, err = run(capsys, "predict", folder)
    assert code == 0 and err == ""
    assert "a.png" in out and "IM0001" in out and "KL" in out

    csv_path = tmp_path / "r.csv"
    code, out, err = run(capsys, "predict", "--csv", csv_path, "--overlay-dir", tmp_path / "ov",
                         "--brightness", "2", folder)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert len(rows) == 2 and {"p_KL0", "grade", "oa_probability", "model"} <= set(rows[0])
    overlays = sorted(p.name for p in (tmp_path / "ov").iterdir())
    assert overlays == ["IM0001_kneeoa.png", "a_kneeoa.png"]
    assert cv2.imread(str(tmp_path / "ov" / "a_kneeoa.png")) is not None


def test_each_bad_file_gives_one_line_and_the_rest_continue(capsys, tmp_path, knee_png):
    bad = samples.bad_files(tmp_path / "bad", knee_png)
    good = tmp_path / "good.png"
    good.write_bytes(knee_png.read_bytes())
    for kind, path in bad.items():
        code, out, err = run(capsys, "predict", "--json", path, good)
        assert code == 1, kind
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"kneeoa: {path}: "), (kind, err)
        assert "Traceback" not in err
        assert len(out.strip().splitlines()) == 1  # the good file was still graded


def test_usage_errors_exit_2(capsys):
    for args in ([], ["predict"], ["predict", "--brightness", "9", "x.png"], ["frobnicate"]):
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2
    capsys.readouterr()


def test_source_files_are_untouched(capsys, tmp_path, knee_png, knee_pixels):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "k.png").write_bytes(knee_png.read_bytes())
    samples.write_dicom(knee_pixels, folder / "k.dcm")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    code, _, _ = run(capsys, "predict", "--overlay-dir", folder, folder)
    assert code == 0
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.name in before}
    assert after == before
    assert (folder / "k_kneeoa.png").is_file() and (folder / "k_kneeoa-2.png").is_file()


def test_info(capsys, predictor):
    code, out, err = run(capsys, "info")
    assert code == 0
    assert predictor.manifest.tag in out and predictor.manifest.sha256 in out
    assert "device" in out and "CPU" in out or "GPU" in out
    assert "onnxruntime" in out and "ONNX Runtime" in out and "224×224" in out  # the lean engine
    assert "tensorflow" not in out
    for member in predictor.manifest.members:  # an ensemble names every network and graph
        assert member.name in out and member.sha256[:12] in out and member.onnx_sha256[:12] in out
    code, out, err = run(capsys, "--engine", "tensorflow", "info")
    assert code == 0 and "tensorflow" in out and "keras" in out and "TensorFlow Lite" in out


def test_bad_weights_folder_is_one_line(capsys, tmp_path, knee_png):
    code, out, err = run(capsys, "--weights", tmp_path, "predict", knee_png)
    assert code == 1 and err.count("\n") == 1 and "manifest" in err


def test_evaluate_small_folder(capsys, tmp_path, knee_png, knee_pixels):
    data = tmp_path / "eval"
    for grade in range(5):
        (data / str(grade)).mkdir(parents=True)
        (data / str(grade) / f"k{grade}.png").write_bytes(knee_png.read_bytes())
    plot = tmp_path / "cm.png"
    code, out, err = run(capsys, "evaluate", data, "--json", "--plot", plot, "--html", tmp_path / "r.html")
    assert code == 0, err
    report = json.loads(out)
    assert report["n"] == 5 and len(report["confusion_matrix"]) == 5
    assert sum(map(sum, report["confusion_matrix"])) == 5
    for key in ("accuracy", "quadratic_weighted_kappa", "mae", "oa_auc", "per_grade"):
        assert key in report
    assert report["ece_if_calibrated"]["n"] == 5
    assert report["accuracy"] == pytest.approx(0.2)  # one image, graded the same, five labels
    assert cv2.imread(str(plot)) is not None
    code, out, err = run(capsys, "evaluate", data, "--plot", plot, "--html", "")
    assert "confusion matrix" in out and "QW kappa" in out and "site report" not in out
    assert "a perfectly calibrated model would show" in out


@needs_data
@pytest.mark.slow
def test_evaluate_reproduces_the_manifest_metrics(capsys, tmp_path, predictor):
    """The validation figures in weights/manifest.json (and the README) are what the code gives."""
    code, out, err = run(capsys, "evaluate", DATA_DIR / "val", "--json", "--plot", tmp_path / "cm.png",
                         "--html", tmp_path / "report.html")
    assert code == 0
    report = json.loads(out)
    recorded = predictor.manifest.metrics
    assert report["n"] == recorded["n"] == 826
    # Another CPU may round a borderline image the other way: allow two images to move.
    for key in ("accuracy", "quadratic_weighted_kappa", "mae", "oa_auc"):
        assert report[key] == pytest.approx(recorded[key], abs=3e-3), key
    moved = np.abs(np.array(report["confusion_matrix"]) - np.array(recorded["confusion_matrix"])).sum()
    assert moved <= 4


def _subprocess(*args, **kw):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "kneeoa_desktop.cli", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300, **kw)


def test_real_process_output_is_clean(tmp_path, knee_png):
    result = _subprocess("predict", "--json", knee_png, tmp_path / "missing.png")
    assert result.returncode == 1
    assert result.stderr == f"kneeoa: {tmp_path / 'missing.png'}: The file does not exist.\n"
    assert json.loads(result.stdout)["file"] == str(knee_png)
    usage = _subprocess("predict")
    assert usage.returncode == 2 and "usage:" in usage.stderr and "Traceback" not in usage.stderr


def test_help_does_not_import_tensorflow():
    code = ("import sys; from kneeoa_desktop.cli.entry import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "sys.exit(1 if 'tensorflow' in sys.modules else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "predict" in result.stdout


def test_debug_shows_the_traceback(capsys, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    code, out, err = run(capsys, "--debug", "predict", bad)
    assert code == 1 and err.startswith(f"kneeoa: {bad}: ") and "Traceback" in err


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    from kneeoa_desktop.cli.progress import Progress

    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("KNEEOA_NO_PROGRESS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    bar = Progress(10)
    bar.update(5)
    bar.close()
    assert "5/10" in capsys.readouterr().err
    assert not Progress(2).enabled  # few files: no bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert not Progress(100).enabled  # piped: no bar


def test_self_test_grades_the_built_in_sample(capsys):
    code, out, err = run(capsys, "self-test")
    assert code == 0 and err == ""
    assert out.startswith("KneeOA ") and "self-test passed" in out and out.count("\n") == 1


def test_self_test_fails_in_one_line_for_a_bad_image(capsys, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nothing")
    code, out, err = run(capsys, "self-test", bad)
    assert code == 1 and out.startswith("KneeOA self-test FAILED: ") and out.count("\n") == 1


@needs_data
def test_predict_prints_one_record_per_knee_with_side_region_and_scope(capsys, tmp_path):
    """A bilateral film gives two records (patient's right first, each region centred on its
    joint), a single-joint crop one record for the whole image; CSV has the same columns."""
    from .test_localise import _centred, _val_crop, bilateral_film

    film, truth = bilateral_film(_val_crop("R"), _val_crop("L"))
    film_path = tmp_path / "bilateral.png"
    cv2.imwrite(str(film_path), film)
    crop_path = sorted((DATA_DIR / "val" / "0").glob("*.png"))[0]
    code, out, err = run(capsys, "predict", "--json", film_path, crop_path)
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    on_film = [r for r in records if r["file"] == str(film_path)]
    assert [r["knee"] for r in on_film] == ["right", "left"]
    for record, centre in zip(on_film, truth):
        from kneeoa_desktop.core.knees.localise import KneeRegion

        assert _centred(KneeRegion(*record["region"], record["knee"], 0.0, False), centre), record["region"]
        assert record["in_scope"] is True and record["scope_note"] is None
    (crop,) = [r for r in records if r["file"] == str(crop_path)]
    # The crop's own side, as its file name says (…R.png: the patient's right knee)
    assert crop["knee"] == {"R": "right", "L": "left"}[crop_path.stem[-1]]
    assert crop["region"] == [0, 0, 224, 224] and crop["in_scope"] is True

    code, out, err = run(capsys, "predict", "--csv", "-", film_path)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["knee"] for r in rows] == ["right", "left"]
    assert {"region", "in_scope", "scope_note"} <= set(rows[0])
    assert rows[0]["region"] == " ".join(str(v) for v in on_film[0]["region"])
