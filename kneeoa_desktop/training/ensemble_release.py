"""Release an ensemble: finished member networks → one shippable model folder, measured on val.

``scripts/release_ensemble.py SPEC.json --out weights`` calls ``release_ensemble``. The spec
names the model, its version and its members; each member is a finished `.keras` (a run's best
checkpoint or an earlier release) with the record of how it was trained (recipe, seed, where).
The release copies the members into the folder, fits one temperature on val for their combined
verdict (``core.verdict.ensemble``: the geometric mean of the members' probabilities), decides the
test-time flip as `kneeoa train` does (on only when its kappa gain on val is real), grades val
through the app's own Predictor, and writes the manifest (members with their sha256 and their
exported ONNX graphs, checked by ``runtime_export``; the temperature, every figure) and
MODEL_CARD.md.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_path
from ..core.knees.preprocess import preprocess
from ..core.model.manifest import Member, ModelManifest, sha256_of
from .calibration import calibrated, reliability_diagram
from .dataset import load_split
from .release import choose_flip_and_temperature, dataset_summary, format_summary, validation_metrics


def read_spec(path: Path) -> dict:
    """The release spec (JSON); member sources are relative to the spec's folder."""
    spec = json.loads(Path(path).read_text(encoding="utf-8"))
    if not spec.get("members"):
        raise ValueError("the spec lists no members")
    for member in spec["members"]:
        for key in ("name", "version", "source", "training"):
            if key not in member:
                raise ValueError(f"member {member.get('name', '?')} lacks {key!r}")
        member["source"] = str((Path(path).parent / member["source"]).resolve())
    return spec


def _install_members(spec: dict, out_dir: Path) -> tuple[Member, ...]:
    members = []
    for m in spec["members"]:
        source = Path(m["source"])
        target = out_dir / f"{m['name']}.keras"
        if not target.is_file() or sha256_of(target) != sha256_of(source):
            with atomic_path(target, suffix=".keras") as (_tmp, handle):
                with source.open("rb") as src:
                    shutil.copyfileobj(src, handle)
        members.append(Member(m["name"], m["version"], target.name, sha256_of(target)))
    return tuple(members)


def _val_logits(predictor, inputs: np.ndarray, batch: int = 64) -> list[np.ndarray]:
    """Log-probabilities of the combined verdict without and with the mirror pass, at T = 1."""
    saved = predictor.test_time_flip
    out = []
    try:
        for flip in (False, True):
            predictor.test_time_flip = flip
            probs = np.concatenate([predictor.predict_array(inputs[i:i + batch])[0]
                                    for i in range(0, len(inputs), batch)])
            out.append(np.log(np.maximum(probs, 1e-12)))
    finally:
        predictor.test_time_flip = saved
    return out


def release_ensemble(spec: dict, out_dir: Path, data_dir: Path, log=print) -> dict:
    """Build, calibrate, measure and document the ensemble in ``out_dir``; return the val report."""
    from ..core.model.predictor import Predictor
    from ..core.outputs.export import write_png_atomic
    from .evaluate import confusion_matrix_image, evaluate_folder, format_report
    from .model_card import write_model_card
    from .plots import plot_dataset_summary, plot_evidence_examples
    from .robustness import format_agreement, site_agreement
    from .runtime_export import export_manifest

    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dataset_summary(data_dir)
    log(format_summary(counts))
    members = _install_members(spec, out_dir)
    manifest = ModelManifest(
        name=spec["name"], version=spec["version"], file=members[0].file, sha256=members[0].sha256,
        input_size=(224, 224), description=spec.get("description", ""), members=members,
        training={"members": [{"name": m["name"], "version": m["version"], **m["training"]}
                              for m in spec["members"]], "data_dir": data_dir.name,
                  "spec": spec.get("spec", "")},
        download_url=spec.get("download_url"), directory=out_dir)
    predictor = Predictor(manifest)
    raws, grades, _ = load_split(data_dir / "val", manifest.input_size, raw=True)
    inputs = np.stack([preprocess(x, manifest.input_size) for x in raws])

    # As `kneeoa train` decides it: the flip stays only if its kappa gain is real, as it
    # doubles every member's time; then one temperature for the combined verdict.
    logits = _val_logits(predictor, inputs)
    flip, flip_gain, passes, temperature, calibration = choose_flip_and_temperature(
        logits[:1], logits[1:], grades, forced=spec.get("test_time_flip"))
    log(f"{len(members)} members; test-time flip {'on' if flip else 'off'} (kappa gain 95 % interval "
        f"{flip_gain[0]:+.4f} … {flip_gain[1]:+.4f}); temperature {temperature:.3f}; ECE "
        f"{calibration['ece_uncalibrated']:.4f} → {calibration['ece_cross_fitted']:.4f} (cross-fitted)")
    manifest.test_time_flip, manifest.ensemble_temperature = flip, float(temperature)
    manifest = export_manifest(manifest, log)  # every member's ONNX graph, checked (runtime_export)
    predictor = Predictor(manifest)
    report = evaluate_folder(data_dir / "val", predictor)
    robustness = site_agreement(raws, grades, predictor)
    log("agreement under site-like changes on val:\n" + format_agreement(robustness))
    manifest.metrics = {**validation_metrics(report, grades, logits[:1], logits[1:], passes, temperature,
                                             calibration, flip_gain, robustness), "decoding": "argmax"}
    manifest.save()
    plot_dataset_summary(counts, out_dir / "dataset_summary.png")
    write_png_atomic(confusion_matrix_image(report), out_dir / "confusion_matrix.png")
    reliability_diagram(grades, calibrated(passes, temperature), out_dir / "reliability.png",
                        title=f"Reliability on val, T = {temperature:.2f} (numbers: images per bin)")
    plot_evidence_examples(raws, grades, predictor, out_dir / "evidence_examples.png")
    stale = out_dir / "learning_curves.png"  # one run's curves say nothing of an ensemble
    if stale.is_file():
        stale.unlink()
    write_model_card(out_dir / "MODEL_CARD.md", manifest, counts, [])
    log(format_report(report))
    return report
