"""Site calibration: a profile fitted on a site's graded films, judged by cross-validation, kept as
checked data, and used by `kneeoa predict --site-profile`."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from kneeoa_desktop.cli.entry import main
from kneeoa_desktop.core.model.manifest import load_manifest
from kneeoa_desktop.core.verdict.site_profile import ProfileError, load_profile, model_fingerprint, save_profile
from kneeoa_desktop.training.site_calibration import build_profile, cross_validate, fit_thresholds

from .conftest import DATA_DIR, needs_data


def _site(shift: int, n: int = 400, seed: int = 0):
    """Films of a simulated site: true grades, and a model's probabilities centred ``shift``
    grades above them (a site whose films the model reads one step too high when shift = 1)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, size=n, p=[0.3, 0.2, 0.25, 0.15, 0.1])
    centre = np.clip(y + shift + rng.normal(0, 0.6, n), 0, 4)
    logits = -((np.arange(5)[None, :] - centre[:, None]) ** 2) / 0.5
    probs = np.exp(logits - logits.max(1, keepdims=True))
    return probs / probs.sum(1, keepdims=True), y


def test_a_site_read_one_step_too_high_gets_a_profile_that_restores_agreement():
    manifest = load_manifest()
    probs, y = _site(shift=1)
    profile = build_profile(probs, y, manifest, "Simulated General", today=date(2026, 12, 4))
    cv = profile.cross_validated
    assert cv["better"], cv
    assert cv["with"]["quadratic_weighted_kappa"] > cv["without"]["quadratic_weighted_kappa"] + 0.1
    assert cv["with"]["accuracy"] > cv["without"]["accuracy"] + 0.2
    shown, grades = profile.apply(probs)
    assert shown.sum(1) == pytest.approx(np.ones(len(y)))
    assert (grades == y).mean() > (probs.argmax(1) == y).mean() + 0.2
    assert profile.describe() == "calibrated for Simulated General (400 films, 2026-12-04)"
    assert profile.films_per_grade == tuple(np.bincount(y, minlength=5))


@pytest.mark.parametrize("seed", range(4))
def test_a_site_where_the_model_is_right_gets_no_profile_that_makes_it_worse(seed):
    probs, y = _site(shift=0, seed=seed)
    report = cross_validate(probs, y)
    assert report["better"] is False, report  # nothing to gain: not better by more than chance


def test_cut_points_fitted_where_the_model_is_right_stay_near_the_even_ones():
    probs, y = _site(shift=0)
    cuts = fit_thresholds(probs @ np.arange(5), y)
    assert np.allclose(cuts, (0.5, 1.5, 2.5, 3.5), atol=0.35) and all(a < b for a, b in zip(cuts, cuts[1:]))


def test_a_profile_is_checked_data(tmp_path):
    manifest = load_manifest()
    probs, y = _site(shift=1, n=200)
    profile = build_profile(probs, y, manifest, "Site A")
    path = save_profile(profile, tmp_path / "site.json")
    again = load_profile(path, manifest)
    assert again == replace(profile, cross_validated=json.loads(json.dumps(profile.cross_validated)))
    assert again.model_fingerprint == model_fingerprint(manifest)

    def refused(data, match):
        (tmp_path / "bad.json").write_text(data if isinstance(data, str) else json.dumps(data))
        with pytest.raises(ProfileError, match=match) as caught:
            load_profile(tmp_path / "bad.json", manifest)
        assert "\n" not in str(caught.value)

    good = json.loads(path.read_text())
    refused("{not json", "unreadable or damaged")
    refused({k: v for k, v in good.items() if k != "thresholds"}, "lacks required fields")
    refused({**good, "thresholds": [2.5, 1.5, 0.5, 3.5]}, "out of range")  # not increasing
    refused({**good, "thresholds": [0.5, 1.5, 2.5, 9.0]}, "out of range")
    refused({**good, "temperature": 0.0}, "out of range")
    refused({**good, "films_per_grade": [1, 2, 3]}, "out of range")
    refused({**good, "model_fingerprint": "0" * 64}, "another model")
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(tmp_path / "nowhere.json", manifest)
    # An ensemble's fingerprint covers every member: swapping one changes it.
    if manifest.members:
        other = replace(manifest, members=(manifest.members[0], replace(manifest.members[1], sha256="1" * 64)))
        assert model_fingerprint(other) != model_fingerprint(manifest)


def _site_folder(tmp_path, per_grade: int):
    """A site's folder laid out as 0/ … 4/: val crops, as its readers graded them."""
    root = tmp_path / "site"
    for g in range(5):
        (root / str(g)).mkdir(parents=True)
        for p in sorted((DATA_DIR / "val" / str(g)).glob("*.png"))[:per_grade]:
            shutil.copy(p, root / str(g) / p.name)
    return root


@needs_data
@pytest.mark.slow
def test_calibrate_and_predict_with_the_profile(tmp_path, capsys):
    site = _site_folder(tmp_path, 11)
    (site / "2" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    out = tmp_path / "site.json"
    assert main(["calibrate", str(site), "--out", str(out), "--name", "Test Site", "--force"]) == 0
    text, err = capsys.readouterr()
    import re

    used, refused, several = map(int, re.search(r"(\d+) graded films used; (\d+) refused by the scope check, "
                                                r"(\d+) with more than one knee, 1 unreadable", text).groups())
    assert "56 files" in text and used + refused + several == 55 and used >= 50  # every film counted
    assert "broken.png" in err and f"cross-validation on {used} films" in text and out.is_file()
    profile = load_profile(out, load_manifest())
    assert profile.name == "Test Site" and profile.films == used

    film = sorted(site.glob("3/*.png"))[0]
    assert main(["predict", "--json", "--site-profile", str(out), str(film)]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert record["site_profile"].startswith(f"calibrated for Test Site ({used} films, ")
    assert record["grade"] == int(profile.grades(np.array([record["probabilities"]]))[0])

    assert main(["info", "--site-profile", str(out)]) == 0  # info checks it against the model and shows it
    assert f"site profile {profile.describe()}; temperature" in " ".join(capsys.readouterr().out.split())

    # evaluate with the profile: its grades, its probabilities, and it says so
    assert main(["evaluate", "--json", "--site-profile", str(out), "--plot", str(tmp_path / "cm.png"),
                 str(site)]) == 1  # the broken file is counted as a failure
    report = json.loads(capsys.readouterr().out)
    assert report["site_profile"] == profile.describe() and report["failed_files"] == 1
    assert sum(map(sum, report["confusion_matrix"])) == report["n"] == 55

    data = json.loads(out.read_text())
    out.write_text(json.dumps({**data, "model_fingerprint": "f" * 64}))
    assert main(["predict", "--site-profile", str(out), str(film)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fitted for another model" in err


@needs_data
@pytest.mark.slow
def test_calibrate_refuses_what_it_cannot_fit_and_writes_nothing(tmp_path, capsys):
    few = _site_folder(tmp_path, 4)
    out = tmp_path / "site.json"
    assert main(["calibrate", str(few), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at least 50 graded films" in err and not out.exists()
    shutil.rmtree(few / "3")
    assert main(["calibrate", str(few), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not laid out as 0/ … 4/" in err and not out.exists()


class _FakeSite:
    """``kneeoa calibrate``'s pipeline and model replaced by a simulated site (``_site``): each of
    the folder's files is one film whose probabilities the site gives, so the CLI's decision to
    write is tested on a site where the model is right and on one it reads a step too high."""

    def __init__(self, tmp_path, shift: int):
        probs, y = _site(shift=shift, n=200)
        self.root, self.probs = tmp_path / f"site{shift}", {}
        for k, (p, grade) in enumerate(zip(probs, y)):
            path = self.root / str(grade) / f"film{k:03d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
            self.probs[path.name] = p

    def install(self, monkeypatch):
        from types import SimpleNamespace

        from kneeoa_desktop.cli import common
        from kneeoa_desktop.core import pipeline

        probs = self.probs

        class Pipeline:
            def __init__(self, predictor):
                pass

            def __call__(self, path):
                prediction = SimpleNamespace(probabilities=probs[path.name])
                return SimpleNamespace(knees=[SimpleNamespace(in_scope=True, prediction=prediction)])

        monkeypatch.setattr(pipeline, "GradingPipeline", Pipeline)
        monkeypatch.setattr(common, "predictor_for",
                            lambda args, with_profile=True: SimpleNamespace(manifest=load_manifest()))


def _calibrate(tmp_path, capsys, monkeypatch, shift: int) -> tuple[str, Path, _FakeSite]:
    """`kneeoa calibrate` (no --force) on a simulated site: what it printed, where it would write."""
    site = _FakeSite(tmp_path, shift=shift)
    site.install(monkeypatch)
    out = tmp_path / "site.json"
    assert main(["calibrate", str(site.root), "--out", str(out)]) == 0
    return capsys.readouterr().out, out, site


def test_calibrate_writes_no_profile_that_is_not_better_unless_forced(tmp_path, capsys, monkeypatch):
    text, out, site = _calibrate(tmp_path, capsys, monkeypatch, shift=0)
    assert "200 graded films used" in text
    assert "not better than the model as it is by more than chance" in text and "nothing was written" in text
    assert not out.exists() and not list(tmp_path.glob("*.json*"))
    assert main(["calibrate", str(site.root), "--out", str(out), "--force"]) == 0
    assert "(forced: not better by more than chance)" in capsys.readouterr().out
    assert load_profile(out, load_manifest()).films == 200


def test_calibrate_writes_a_better_profile_without_being_forced(tmp_path, capsys, monkeypatch):
    text, out, _ = _calibrate(tmp_path, capsys, monkeypatch, shift=1)
    assert f"wrote {out}" in text and "forced" not in text
    profile = load_profile(out, load_manifest())
    assert profile.cross_validated["better"] is True and profile.films == 200


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@needs_data
@pytest.mark.slow
def test_the_site_report_opens_in_a_real_browser(tmp_path, capsys):
    """`kneeoa evaluate --html` with a profile: one self-contained file, before and after side by
    side, that headless Chromium renders with its charts and thumbnails."""
    site = _site_folder(tmp_path, 11)
    manifest = load_manifest()
    probs, y = _site(shift=1, n=200)
    profile_path = save_profile(build_profile(probs, y, manifest, "Report Site"), tmp_path / "site.json")
    report_path = tmp_path / "report.html"
    assert main(["evaluate", str(site), "--site-profile", str(profile_path), "--plot", str(tmp_path / "cm.png"),
                 "--html", str(report_path)]) == 0
    assert f"site report: {report_path}" in capsys.readouterr().out
    text = report_path.read_text()
    assert "<script" not in text and "http://" not in text and "https://" not in text  # self-contained
    assert "as it is" in text and "calibrated for Report Site" in text and "data:image/png;base64," in text
    assert text.count("<svg") == 4  # reliability and ROC, before and after
    if _chromium() is None:
        pytest.skip("no Chromium (apt install chromium; .ci/run installs it)")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(report_path.as_uri())
            assert page.title().startswith("KneeOA site report")
            assert page.locator("table.matrix").count() == 2 and page.locator("svg.chart").count() == 4
            widths = page.evaluate("Array.from(document.images).map(i => i.naturalWidth)")
            assert widths and all(w > 0 for w in widths)  # every thumbnail decodes
            shot = tmp_path / "site-report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
