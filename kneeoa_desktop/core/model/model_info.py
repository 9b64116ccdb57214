"""What `kneeoa info` prints and the server's `GET /model` returns: the model in use, as facts."""

from __future__ import annotations

from ... import __version__
from .engines import ONNX


def model_facts(predictor, weights_given: str | None = None) -> dict[str, str]:
    """Ordered facts about ``predictor``'s model and runtime (labels as `kneeoa info` shows them)."""
    from ..logs import log_file
    from .model_store import active_model

    manifest = predictor.manifest
    origin = f"given with --weights {weights_given}" if weights_given else active_model().describe()
    facts = {
        "model": manifest.tag,
        "origin": origin,
        "file": str(manifest.model_path),
        "sha256": manifest.sha256,
    }
    if manifest.members:  # an ensemble: every network, and how their verdicts combine
        facts["members"] = "; ".join(f"{m.name} {m.version} ({m.file}, sha256 {m.sha256[:12]}…)"
                                     for m in manifest.members)
        facts["combined by"] = (f"geometric mean of the members' probabilities, temperature "
                                f"{manifest.ensemble_temperature:.3f}; grade = most probable")
    if getattr(predictor, "engine_kind", "") == ONNX:  # what the lean engine actually loaded
        facts["graded from"] = "; ".join(f"{m.onnx_file} (sha256 {m.onnx_sha256[:12]}…)"
                                         for m in manifest.member_list)
    facts.update({
        "input size": f"{manifest.input_size[1]}×{manifest.input_size[0]} gray",
        "labels": ", ".join(manifest.labels),
        "evidence": predictor.evidence_method,
        "device": predictor.device,
        "engine": getattr(predictor, "engine", "TensorFlow"),
        **predictor.versions,  # the engine's own versions: onnxruntime, or tensorflow and keras
        "kneeoa": __version__,
        "log file": str(log_file()),
    })
    profile = getattr(predictor, "site_profile", None)
    if profile is not None:
        facts["site profile"] = (f"{profile.describe()}; temperature {profile.temperature:.3f}, cut points "
                                 + ", ".join(f"{t:.2f}" for t in profile.thresholds))
    if manifest.test_time_flip:
        facts["test-time flip"] = "on (each network also grades the mirror image)"
    metrics = manifest.metrics
    if metrics:
        shown = [f"{k} {metrics[k]:.3f}" for k in ("accuracy", "quadratic_weighted_kappa", "mae", "oa_auc")
                 if isinstance(metrics.get(k), (int, float))]
        if shown:
            facts["val metrics"] = ", ".join(shown)
    return facts
