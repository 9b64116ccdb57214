"""Measure ONNX Runtime against LiteRT (``ai-edge-litert``) for the shipped ensemble, on this CPU.

Usage::

    .venv/bin/python scripts/measure_runtimes.py [--runs 30] [--out-json figures.json]

For each runtime it prints the wheel size (this platform's wheel, from /tmp/wh when it is there,
else ``pip download --no-deps``; "n/a" offline), the installed size (the files of the package's
RECORD), the import time, and for each member of the ensemble in weights/manifest.json and for the
whole ensemble (sum over members): the model file's size, the load time (ONNX Runtime: the
``InferenceSession``; LiteRT: the ``Interpreter`` with ``allocate_tensors``, ready to run), the
first-inference time (load + the first call on one 224×224 input), the warm time per image
(batch 1, median of ``--runs`` calls after 5 warm-ups, in one process) and the largest difference
from TensorFlow's own graph on the fixed probes (``runtime_export.probes``; absolute for the
probabilities, relative to the largest value for the evidence maps and features). Then the GPU
paths each offers, here and on Windows/macOS/Linux.

Import, load and first-inference times are medians over ``--runs`` fresh processes; the children
import the runtime and numpy only (never TensorFlow) and time themselves with
``time.perf_counter``. The runtimes take turns, so a change in the machine's load hits both.
Both use ``min(4, cpu_count)`` threads, as the app does. The ``.tflite`` files are converted here
once (TensorFlow, the same forward pass as the ONNX export) into a temporary folder.

Needs TensorFlow, onnxruntime and ai-edge-litert in the environment running it.
"""

from __future__ import annotations

import argparse
import glob
import importlib.metadata as md
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

THREADS = max(1, min(4, os.cpu_count() or 1))
WARMUPS = 5
WHEEL_CACHE = Path("/tmp/wh")
RUNTIMES = {  # key: (label, distribution name)
    "ort": ("ONNX Runtime", "onnxruntime"),
    "litert": ("LiteRT", "ai-edge-litert"),
}

# GPU paths each runtime offers per desktop platform: static facts (not measurable on this machine).
# ONNX Runtime: https://onnxruntime.ai/docs/execution-providers/ (provider list),
#   https://onnxruntime.ai/docs/execution-providers/DirectML-ExecutionProvider (onnxruntime-directml
#   wheel; "DirectML is in sustained engineering", new work goes to Windows ML),
#   https://onnxruntime.ai/docs/execution-providers/CoreML-ExecutionProvider and
#   https://github.com/cansik/onnxruntime-silicon ("use the official wheel", CoreML in `onnxruntime`
#   for macOS arm64), https://onnxruntime.ai/docs/install/ (onnxruntime-gpu: CUDA 12 + TensorRT EP).
# LiteRT: https://ai.google.dev/edge/litert/next/python (CompiledModel API; "the current Python
#   wrapper compiles for CPU by default") and ai_edge_litert/hardware_accelerator.py in the 2.3.0
#   wheel (GPU = "WebGPU/OpenCL/Metal backend", via CompiledModel(hardware_accel=GPU|CPU)).
#   The classic Interpreter API (what tf.lite / this app's lite engine use) has no desktop GPU
#   delegate in the wheel: CPU with XNNPACK only; the GPU delegates of the Interpreter era are
#   Android/iOS builds. Checked by listing the 2.3.0 wheels (pip download --platform ...): the
#   Linux and Windows wheels carry libLiteRtWebGpuAccelerator, the macOS one libLiteRtMetalAccelerator.
GPU_PATHS = {
    "ort": {
        "Windows": "DirectML EP (separate onnxruntime-directml wheel; sustained engineering), "
                   "CUDA/TensorRT via onnxruntime-gpu",
        "macOS": "CoreML EP in the standard onnxruntime wheel (Apple silicon: GPU/Neural Engine)",
        "Linux": "CUDA and TensorRT EPs via the separate onnxruntime-gpu wheel (NVIDIA, CUDA 12)",
    },
    "litert": {
        "Windows": "Interpreter: CPU (XNNPACK) only; CompiledModel API: WebGPU accelerator in the wheel",
        "macOS": "Interpreter: CPU (XNNPACK) only; CompiledModel API: Metal accelerator in the wheel",
        "Linux": "Interpreter: CPU (XNNPACK) only; CompiledModel API: WebGPU accelerator in the wheel",
    },
}
# cp311 wheels published for the measured versions, found with
# `pip install --dry-run --no-deps --only-binary=:all: --platform TAG --python-version 3.11 PKG==VER`.
PLATFORMS = {
    "ort": "Windows x64 + arm64, macOS arm64 (14+; no Intel Mac), Linux x86_64 + aarch64 (glibc 2.28+)",
    "litert": "Windows x64 (no arm64), macOS arm64 (12+; no Intel Mac), Linux x86_64 + aarch64 (glibc 2.27+)",
}

# ---- children: numpy and one runtime only, never TensorFlow -------------------------------------

IMPORT_CHILD = {
    "ort": "import time\nt = time.perf_counter()\nimport onnxruntime\nprint(time.perf_counter() - t)",
    "litert": ("import time\nt = time.perf_counter()\nfrom ai_edge_litert.interpreter import Interpreter\n"
               "print(time.perf_counter() - t)"),
}

RUNNER = r'''
import json, statistics, sys, time
import numpy as np

kind, path, threads, mode, runs, warmups, probes = sys.argv[1:8]
threads, runs, warmups = int(threads), int(runs), int(warmups)

if kind == "ort":
    import onnxruntime as ort
else:
    from ai_edge_litert.interpreter import Interpreter


def load():
    if kind == "ort":
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
        names = ["probabilities", "evidence", "features"]
        return lambda x: session.run(names, {"radiograph": x})
    it = Interpreter(model_path=path, num_threads=threads)
    index = it.get_input_details()[0]["index"]
    state = {"batch": None, "outputs": None}

    def order():  # (probabilities, evidence, features), told apart by shape as lite_engine does
        details = it.get_output_details()
        rank4 = [d for d in details if len(d["shape_signature"]) == 4]
        rank2 = [d for d in details if len(d["shape_signature"]) == 2]
        grades = int(rank4[0]["shape_signature"][3])
        probs = [d for d in rank2 if int(d["shape_signature"][1]) == grades][0]
        feats = [d for d in rank2 if d is not probs][0]
        return probs["index"], rank4[0]["index"], feats["index"]

    def resize(batch):
        if batch != state["batch"]:
            it.resize_tensor_input(index, [batch, *it.get_input_details()[0]["shape"][1:]])
            it.allocate_tensors()
            state["batch"], state["outputs"] = batch, order()

    def call(x):
        resize(x.shape[0])
        it.set_tensor(index, x)
        it.invoke()
        return [np.array(it.get_tensor(i)) for i in state["outputs"]]

    resize(1)  # ready to run a single image: part of the load
    return call


x = np.random.default_rng(1).random((1, 224, 224, 1), dtype=np.float32)
if mode == "cold":  # load, then the first call
    t0 = time.perf_counter()
    run = load()
    t1 = time.perf_counter()
    run(x)
    t2 = time.perf_counter()
    print(json.dumps({"load": t1 - t0, "first": t2 - t0}))
else:  # warm calls, then the outputs on the probes
    run = load()
    for _ in range(warmups):
        run(x)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - t)
    out = run(np.load(probes))
    np.savez(probes + "." + kind + ".out.npz", *out)
    print(json.dumps({"warm": statistics.median(times), "warm_all": times}))
'''


def child(code: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          timeout=600, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


# ---- package sizes --------------------------------------------------------------------------------

def installed_mb(dist_name: str) -> float:
    dist = md.distribution(dist_name)
    total = 0
    for f in dist.files or ():
        p = Path(dist.locate_file(f))
        if p.is_file():
            total += p.stat().st_size
    return total / 1e6


def dependencies(dist_name: str) -> list[str]:
    """Required distributions (no extras), numpy left out (the app needs it anyway)."""
    from packaging.requirements import Requirement

    names = []
    for spec in md.requires(dist_name) or ():
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        if req.name.lower() != "numpy":
            names.append(req.name)
    return names


def wheel_mb(dist_name: str) -> tuple[float | None, str]:
    version = md.version(dist_name)
    stem = dist_name.replace("-", "_")
    candidates = glob.glob(str(WHEEL_CACHE / f"{stem}-{version}-*.whl"))
    try:
        from packaging.tags import sys_tags
        from packaging.utils import parse_wheel_filename

        here = set(sys_tags())
        candidates = [c for c in candidates if here & set(parse_wheel_filename(Path(c).name)[3])]
    except Exception:  # no packaging: take what is there
        pass
    if candidates:
        return os.path.getsize(candidates[0]) / 1e6, Path(candidates[0]).name
    with tempfile.TemporaryDirectory() as folder:
        try:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                            "-d", folder, f"{dist_name}=={version}"], capture_output=True, timeout=600, check=True)
            files = list(Path(folder).glob("*.whl"))
            if files:
                return files[0].stat().st_size / 1e6, files[0].name
        except (subprocess.SubprocessError, OSError):
            pass
    return None, "n/a"


def accelerator_libs(dist_name: str) -> list[str]:
    return sorted(Path(str(f)).name for f in md.files(dist_name) or ()
                  if "Accelerator" in str(f) and str(f).endswith((".so", ".dll", ".dylib")))


# ---- TensorFlow side (parent only) ---------------------------------------------------------------

def convert_members(manifest, folder: Path, x: np.ndarray) -> tuple[list[dict], str]:
    """Each member: its .onnx, its .tflite (converted here) and TensorFlow's outputs on the probes."""
    from kneeoa_desktop.core.model.lite_engine import convert
    from kneeoa_desktop.core.model.network import Network
    from kneeoa_desktop.core.model.runtime import tensorflow_runtime
    from kneeoa_desktop.training.runtime_export import _export_function

    runtime = tensorflow_runtime()
    members = []
    for m in manifest.member_list:
        network = Network(runtime, manifest.directory / m.file, m.sha256, manifest.input_size, lite=False)
        forward, _ = _export_function(runtime.tf, runtime.keras, network.model, manifest.input_size)
        tflite = folder / (Path(m.file).stem + ".tflite")
        tflite.write_bytes(convert(runtime.tf, forward.get_concrete_function(), forward))
        reference = [np.asarray(a) for a in network.tensorflow_forward()(runtime.tf.constant(x))]
        members.append({"name": Path(m.file).stem, "ort": str(manifest.directory / m.onnx_file),
                        "litert": str(tflite), "reference": reference})
    return members, runtime.tf.__version__


# ---- report ---------------------------------------------------------------------------------------

def ms(v):
    return "n/a" if v is None else f"{v * 1e3:.1f}"


def mb(v):
    return "n/a" if v is None else f"{v:.1f}"


def table(rows, header) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows] if r is not None) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip(), line]
    for r in rows:
        out.append(line if r is None else "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(out)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed calls / fresh processes per figure (30)")
    parser.add_argument("--out-json", type=Path, help="also write every figure (and raw samples) here")
    args = parser.parse_args()
    start = time.perf_counter()

    from kneeoa_desktop.core.model.manifest import load_manifest
    from kneeoa_desktop.training.runtime_export import OUTPUTS, TOLERANCES, differences, probes

    manifest = load_manifest(ROOT / "weights")
    x = probes(manifest.input_size)
    results = {"runs": args.runs, "threads": THREADS, "cpu": cpu_name(), "cpu_count": os.cpu_count(),
               "python": platform.python_version(), "platform": platform.platform(), "runtimes": {}}
    with tempfile.TemporaryDirectory(prefix="kneeoa-rt-") as tmp:
        folder = Path(tmp)
        probe_file = folder / "probes.npy"
        np.save(probe_file, x)
        members, tf_version = convert_members(manifest, folder, x)
        results["tensorflow_reference"] = tf_version
        results["probes"] = int(x.shape[0])

        for key, (label, dist) in RUNTIMES.items():
            wheel, wheel_name = wheel_mb(dist)
            deps = dependencies(dist)
            results["runtimes"][key] = {
                "label": label, "version": md.version(dist), "wheel_mb": wheel, "wheel_file": wheel_name,
                "installed_mb": installed_mb(dist), "dependencies": deps,
                "dependencies_installed_mb": sum(installed_mb(d) for d in deps if _installed(d)),
                "gpu_paths": GPU_PATHS[key], "platforms": PLATFORMS[key],
                "accelerator_libs": accelerator_libs(dist), "import_s": [], "members": {}}
        providers = json.loads(child("import json, onnxruntime as o; print(json.dumps(o.get_available_providers()))"))
        results["runtimes"]["ort"]["providers_here"] = providers
        results["runtimes"]["litert"]["providers_here"] = [f"Interpreter: CPU (XNNPACK, {THREADS} threads)"]

        for key in RUNTIMES:
            for m in members:
                results["runtimes"][key]["members"][m["name"]] = {
                    "file_mb": os.path.getsize(m[key]) / 1e6, "load_s": [], "first_s": []}

        # Fresh processes, the runtimes taking turns.
        for _ in range(args.runs):
            for key in RUNTIMES:
                results["runtimes"][key]["import_s"].append(float(child(IMPORT_CHILD[key])))
                for m in members:
                    cold = json.loads(child(RUNNER, key, m[key], str(THREADS), "cold", "0", "0", str(probe_file)))
                    entry = results["runtimes"][key]["members"][m["name"]]
                    entry["load_s"].append(cold["load"])
                    entry["first_s"].append(cold["first"])
        # Warm calls and agreement, one process per runtime and member.
        for m in members:
            for key in RUNTIMES:
                warm = json.loads(child(RUNNER, key, m[key], str(THREADS), "warm", str(args.runs), str(WARMUPS),
                                        str(probe_file)))
                with np.load(f"{probe_file}.{key}.out.npz") as saved:
                    got = [saved[f"arr_{i}"] for i in range(3)]
                entry = results["runtimes"][key]["members"][m["name"]]
                entry["warm_s"] = warm["warm"]
                entry["warm_all_s"] = warm["warm_all"]
                entry["difference"] = differences(got, m["reference"])
                entry["agrees"] = all(entry["difference"][k] <= TOLERANCES[k] for k in OUTPUTS)

    for r in results["runtimes"].values():
        r["import_median_s"] = statistics.median(r["import_s"])
        for entry in r["members"].values():
            entry["load_median_s"] = statistics.median(entry["load_s"])
            entry["first_median_s"] = statistics.median(entry["first_s"])
        ms_ = list(r["members"].values())
        r["ensemble"] = {"file_mb": sum(e["file_mb"] for e in ms_),
                         "load_s": sum(e["load_median_s"] for e in ms_),
                         "first_s": sum(e["first_median_s"] for e in ms_),
                         "warm_s": sum(e["warm_s"] for e in ms_),
                         "difference": {k: max(e["difference"][k] for e in ms_) for k in OUTPUTS},
                         "agrees": all(e["agrees"] for e in ms_)}
    results["elapsed_s"] = time.perf_counter() - start
    print(report(results, [m["name"] for m in members], TOLERANCES))
    if args.out_json:
        args.out_json.write_text(json.dumps(results, indent=1) + "\n")
    return 0 if all(r["ensemble"]["agrees"] for r in results["runtimes"].values()) else 1


def _installed(name: str) -> bool:
    try:
        md.distribution(name)
    except md.PackageNotFoundError:
        return False
    return True


def report(results: dict, names: list[str], tolerances: dict) -> str:
    ort, lite = results["runtimes"]["ort"], results["runtimes"]["litert"]
    header = ["", f"ONNX Runtime {ort['version']}", f"LiteRT {lite['version']} (Interpreter)"]

    def row(label, f):
        return [label, f(ort), f(lite)]

    rows = [
        row("wheel, this platform (MB)", lambda r: mb(r["wheel_mb"])),
        row("installed, package alone (MB)", lambda r: mb(r["installed_mb"])),
        row("required deps besides numpy", lambda r: ", ".join(r["dependencies"]) or "-"),
        row("  their installed size (MB)", lambda r: mb(r["dependencies_installed_mb"])),
        row("import (ms, median, fresh process)", lambda r: ms(r["import_median_s"])),
        None,
    ]
    for name in names + ["ensemble"]:
        def get(r, name=name):
            return r["ensemble"] if name == "ensemble" else r["members"][name]

        title = "whole ensemble (sum over members)" if name == "ensemble" else f"member {name}"
        rows += [
            [title, "", ""],
            row("  model file (MB)", lambda r: mb(get(r)["file_mb"])),
            row("  load (ms, fresh process)", lambda r: ms(get(r).get("load_median_s", get(r).get("load_s")))),
            row("  load + first inference (ms)", lambda r: ms(get(r).get("first_median_s", get(r).get("first_s")))),
            row("  warm, batch 1 (ms/image)", lambda r: ms(get(r)["warm_s"])),
            row("  max |Δ| probabilities vs TF", lambda r: f"{get(r)['difference']['probabilities']:.1e}"),
            row("  max |Δ| evidence / max", lambda r: f"{get(r)['difference']['evidence']:.1e}"),
            row("  max |Δ| features / max", lambda r: f"{get(r)['difference']['features']:.1e}"),
            row("  within tolerances", lambda r: "yes" if get(r)["agrees"] else "NO"),
            None,
        ]
    rows += [
        row("execution providers offered here", lambda r: ", ".join(r["providers_here"])),
        row("GPU accelerator libs in this wheel", lambda r: ", ".join(r["accelerator_libs"]) or "-"),
    ]
    facts = ["", "GPU paths and platforms (static facts, sources in the script):"]
    for r in (ort, lite):
        facts.append(f"  {r['label']}:")
        facts += [f"    GPU on {system}: {text}" for system, text in r["gpu_paths"].items()]
        facts.append(f"    cp311 wheels: {r['platforms']}")
    intro = (f"Runtime comparison on {results['cpu']} ({results['cpu_count']} logical CPUs, {results['threads']} "
             f"threads each), Python {results['python']}, {results['platform']}.\n"
             f"Medians of {results['runs']} fresh processes (import, load, first inference) or of {results['runs']} "
             f"calls after {WARMUPS} warm-ups (warm); reference: TensorFlow {results['tensorflow_reference']}'s "
             f"graph on {results['probes']} probes; tolerances {tolerances}.\n"
             f"Wheels: {ort['wheel_file']}, {lite['wheel_file']}. Total time {results['elapsed_s']:.0f} s.\n")
    return intro + "\n" + table(rows, header) + "\n" + "\n".join(facts)


if __name__ == "__main__":
    sys.exit(main())
