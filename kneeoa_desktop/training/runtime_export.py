"""Export each network to an ONNX graph for the lean engine, and prove it grades as Keras does.

The exported graph is the predictor's forward pass in one call: input ``radiograph`` (B, H, W, 1)
float32 in [0, 1]; outputs ``probabilities`` (B, 5), ``evidence`` (B, h, w, 5: the class
activation maps, ReLU(features · head kernel)) and ``features`` (B, C: the pooled features the
scope check reads). It is converted from TensorFlow's graph by tf2onnx (opset ``OPSET``), then
run by ONNX Runtime on fixed probes beside TensorFlow's own graph: the probabilities must agree
within ``TOLERANCES["probabilities"]`` (absolute) and the maps and features within their
tolerances (relative to the largest value), or the export fails and nothing is written. The
whole ensemble is then checked again through the app's ``Predictor`` on both engines. The
figures go into the manifest (``training.onnx_export``) and the model card.

Needs TensorFlow, tf2onnx and onnx (the ``[train]`` extras); the app itself only reads the file.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_path
from ..core.model.manifest import ModelManifest, sha256_of

OPSET = 17
#: Largest difference allowed between ONNX Runtime and TensorFlow on the probes: absolute for the
#: probabilities; for maps and features, relative to the largest absolute value in the reference.
TOLERANCES = {"probabilities": 1e-4, "evidence": 1e-3, "features": 1e-3}
OUTPUTS = ("probabilities", "evidence", "features")
_LOAD_PROBE = 0  # index in ``probes()`` of ``onnx_engine.probe_input``


class ExportMismatch(RuntimeError):
    """The exported graph does not reproduce the Keras model on the probes."""


def probes(input_size: tuple[int, int]) -> np.ndarray:
    """Fixed probe inputs (N, H, W, 1): uniform noise (``onnx_engine.probe_input``, first), the
    bundled synthetic knee, a ramp and flat mid-gray; the same every time, so the check is
    repeatable."""
    from ..core.film.imaging import load_image
    from ..core.knees.preprocess import preprocess
    from ..core.model.onnx_engine import probe_input
    from ..core.paths import resources_dir

    h, w = input_size
    batch = [probe_input(input_size)[0],  # the probe every load checks again
             np.broadcast_to(np.linspace(0, 1, w, dtype=np.float32)[None, :, None], (h, w, 1)),
             np.full((h, w, 1), 0.5, np.float32)]
    sample = resources_dir() / "samples" / "synthetic-knee.png"
    if sample.is_file():
        batch.insert(1, preprocess(load_image(sample).pixels, input_size))
    return np.ascontiguousarray(np.stack(batch), np.float32)


def _export_function(tf, keras, model, input_size):
    """The forward pass to convert: the Keras model's three outputs, the maps computed in-graph."""
    names = {layer.name for layer in model.layers}
    if not {"features", "gap", "head"} <= names or not isinstance(model.get_layer("head"), keras.layers.Dense):
        raise ExportMismatch("only networks with a 'features' map, a 'gap' pool and a dense 'head' export "
                             "(their evidence is the exact CAM)")
    both = keras.Model(model.inputs, [model.get_layer("features").output, model.outputs[0],
                                      model.get_layer("gap").output])
    kernel = np.asarray(model.get_layer("head").kernel, np.float32)
    spec = [tf.TensorSpec((None, *input_size, 1), tf.float32, name="radiograph")]

    @tf.function(input_signature=spec)
    def forward(radiograph):
        fmap, probs, pooled = both(radiograph, training=False)
        # The kernel is made inside the trace: a captured eager tensor would become a graph input.
        cams = tf.nn.relu(tf.einsum("bhwc,ck->bhwk", fmap, tf.constant(kernel)))
        return {"probabilities": tf.identity(probs), "evidence": cams, "features": tf.identity(pooled)}

    return forward, spec


def differences(outputs, reference) -> dict[str, float]:
    """The largest difference per output, as ``TOLERANCES`` measures them: absolute for the
    probabilities, relative to the reference's largest value for the others (inf: other shape)."""
    figures = {}
    for name, got, ref in zip(OUTPUTS, outputs, reference):
        got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
        if got.shape != ref.shape:
            figures[name] = float("inf")
            continue
        scale = 1.0 if name == "probabilities" else max(float(np.abs(ref).max()), 1e-6)
        figures[name] = float(np.abs(got - ref).max()) / scale
    return figures


def agreement(onnx_outputs, reference) -> dict[str, float]:
    """``differences``, or ExportMismatch when an output has another shape or is outside its
    tolerance."""
    for name, got, ref in zip(OUTPUTS, onnx_outputs, reference):
        if np.shape(got) != np.shape(ref):
            raise ExportMismatch(f"{name}: shape {np.shape(got)} != {np.shape(ref)}")
    figures = differences(onnx_outputs, reference)
    for name, value in figures.items():
        if value > TOLERANCES[name]:
            raise ExportMismatch(f"{name} differ by {value:.2g} (tolerance {TOLERANCES[name]:g})")
    return figures


def export_network(keras_path: Path, input_size: tuple[int, int], onnx_path: Path) -> tuple[dict, tuple]:
    """Write ``onnx_path`` from ``keras_path`` (atomically, only if it agrees); returns the
    agreement figures on the probes and the Keras network's probabilities on the load probe."""
    import tf2onnx

    from ..core.model.network import Network
    from ..core.model.onnx_engine import OnnxNetwork
    from ..core.model.runtime import tensorflow_runtime

    runtime = tensorflow_runtime()
    network = Network(runtime, keras_path, "", input_size, lite=False)  # safe mode, layer checks
    forward, spec = _export_function(runtime.tf, runtime.keras, network.model, input_size)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed over it only when the check below passes.
    with atomic_path(onnx_path, suffix=".onnx") as (staged, handle):
        handle.close()  # tf2onnx writes by name
        quiet = logging.getLogger("tf2onnx")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            tf2onnx.convert.from_function(forward, input_signature=spec, opset=OPSET, output_path=str(staged))
        finally:
            quiet.setLevel(level)
        x = probes(input_size)
        reference = [np.asarray(a) for a in network.tensorflow_forward()(runtime.tf.constant(x))]
        figures = agreement(OnnxNetwork(staged, input_size)(x), reference)
    return figures, tuple(round(float(p), 9) for p in reference[0][_LOAD_PROBE])


def export_manifest(manifest: ModelManifest, log=print) -> ModelManifest:
    """Export every network of ``manifest`` beside its `.keras` file, check each and then the
    whole model through the app's Predictor on both engines; returns the manifest with the ONNX
    files, their sha256 and the figures (``training["onnx_export"]``), saved."""
    import onnxruntime
    import tf2onnx

    members, worst = [], dict.fromkeys(OUTPUTS, 0.0)
    for member in manifest.member_list:
        onnx_file = Path(member.file).stem + ".onnx"
        figures, probe = export_network(manifest.directory / member.file, manifest.input_size,
                                        manifest.directory / onnx_file)
        worst = {k: max(worst[k], figures[k]) for k in OUTPUTS}
        log(f"exported {member.file} → {onnx_file}: " + ", ".join(f"{k} within {v:.1e}" for k, v in figures.items()))
        members.append(replace(member, onnx_file=onnx_file, onnx_sha256=sha256_of(manifest.directory / onnx_file),
                               onnx_probe=probe))
    if manifest.members:
        exported = replace(manifest, members=tuple(members))
    else:
        exported = replace(manifest, onnx_file=members[0].onnx_file, onnx_sha256=members[0].onnx_sha256,
                           onnx_probe=members[0].onnx_probe)
    whole = check_predictors(exported)
    log("whole model, ONNX Runtime against TensorFlow's graph: "
        + ", ".join(f"{k} within {v:.1e}" for k, v in whole.items()))
    exported.training = {**exported.training, "onnx_export": {
        "opset": OPSET, "tf2onnx": tf2onnx.__version__, "onnxruntime": onnxruntime.__version__,
        "probes": int(probes(manifest.input_size).shape[0]), "tolerances": TOLERANCES,
        "members_max_difference": worst, "model_max_difference": whole}}
    exported.save()
    return exported


def check_predictors(manifest: ModelManifest) -> dict[str, float]:
    """Both engines grade the probes through ``Predictor`` (ensemble rule, temperature and flip
    included); raises ExportMismatch unless they agree. Returns the differences."""
    from ..core.model.engines import ONNX, TENSORFLOW_GRAPH
    from ..core.model.predictor import Predictor

    x = probes(manifest.input_size)
    lean = Predictor(manifest, engine=ONNX).predict_array(x, with_features=True)
    reference = Predictor(manifest, engine=TENSORFLOW_GRAPH).predict_array(x, with_features=True)
    return agreement(lean, reference)


CARD_HEADING = "## Runtime files (the lean engine)"


def card_section(manifest: ModelManifest) -> list[str]:
    """The model card's section on the exported graphs: files, sha256, how they were checked."""
    record = manifest.training.get("onnx_export")
    if not record or not manifest.has_onnx:
        return []
    rows = []
    for m in manifest.member_list:
        path = manifest.directory / m.onnx_file
        size = f"{path.stat().st_size / 1e6:.1f}" if path.is_file() else "?"
        rows.append(f"| `{m.onnx_file}` | {size} | `{m.onnx_sha256[:12]}…` | `{m.file}` |")
    worst, whole = record["members_max_difference"], record["model_max_difference"]
    return [
        CARD_HEADING,
        "",
        "The program grades with ONNX Runtime (no TensorFlow needed): each network's forward pass "
        "(probabilities, evidence maps and pooled features in one call) exported to ONNX (opset "
        f"{record['opset']}, tf2onnx {record['tf2onnx']}). The release checked each graph on "
        f"{record['probes']} fixed probes against its `.keras` network on TensorFlow's graph, and "
        "the whole model through the app's Predictor on both engines; it fails when a difference "
        "exceeds its tolerance (probabilities absolute, maps and features relative to their "
        "largest value).",
        "",
        "| ONNX file | MB | sha256 | exported from |",
        "|---|---|---|---|",
        *rows,
        "",
        "| output | tolerance | largest difference, any member | whole model |",
        "|---|---|---|---|",
        *[f"| {k} | {record['tolerances'][k]:g} | {worst[k]:.1e} | {whole[k]:.1e} |" for k in OUTPUTS],
        "",
        f"ONNX Runtime {record['onnxruntime']} ran the check. `python scripts/export_onnx.py --weights "
        "DIR` repeats the export and the check; `kneeoa --engine tensorflow …` grades with the "
        "`.keras` files instead (the `[tensorflow]` extra).",
        "",
    ]


def update_card(manifest: ModelManifest) -> None:
    """Put ``card_section`` into the folder's MODEL_CARD.md (replacing an older one, else before
    "## History"), for a model released before its graphs were exported."""
    from ..core.atomic import write_text_atomic

    card = manifest.directory / "MODEL_CARD.md"
    if not card.is_file():
        return
    text = card.read_text(encoding="utf-8")
    section = "\n".join(card_section(manifest)).rstrip("\n") + "\n\n"
    if CARD_HEADING in text:
        start = text.index(CARD_HEADING)
        end = text.find("\n## ", start + len(CARD_HEADING))
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    elif "\n## History" in text:
        at = text.index("\n## History") + 1
        text = text[:at] + section + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    write_text_atomic(text, card)
