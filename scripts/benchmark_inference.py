#!/usr/bin/env python3
"""Print the speed and size figures: warm per-image cost, cold-start `kneeoa predict`, model size.

Usage: python scripts/benchmark_inference.py [IMAGE] [--repeats N] [--engine ENGINE] [--compare]

Every figure is measured with ENGINE (default: auto, the lean engine); run it once per engine,
back to back, to compare them (``--engine tensorflow`` needs the [tensorflow] extra).
``--compare`` also times each member on TensorFlow Lite and TensorFlow's graph in the same
process (TensorFlow's threads then share the CPU with the figures above, so leave it off for
the lean engine's own figures).

1. Warm cost per image (model loaded): load + preprocess + network (with the test-time flip if
   the model uses it) + evidence map upsampled to the image + overlay composition, median over N.
2. Overlay recomposition alone for a 1024×1024 image (what a brightness-slider move costs).
3. Warm `kneeoa predict --overlay-dir` per image: one process grading 1 image and one grading
   1 + N images (annotated PNGs written), fastest of 3 each; the difference divided by N.
4. Cold start: wall time of a fresh `kneeoa predict --json IMAGE` process with the default
   (lean) engine, median of 5; and, when TensorFlow is installed, with `--engine tensorflow`,
   median of 3 (its TensorFlow Lite conversion already cached, as on every start but the first).
5. The model files' sizes (every member's `.keras` and exported ONNX graph, and their total).
   Also: the network alone on one input: each member on the lean engine (ONNX Runtime), and,
   when TensorFlow is installed, on TensorFlow Lite and the first member as TensorFlow's graph;
   all members combined; interleaved, median over N. With the lean engine, also two knees
   through every member with ONNX Runtime's pools busy-waiting between calls and without.
6. Warm grading of a bilateral film through the pipeline (find the knees, both knees through
   the network in one batch, scope check, the overlay over both composed), median over N; the
   film is the synthetic bilateral fixture of tests/test_localise.py scaled to 2000 px wide.
   Then, the same way, a standing film of both legs hip to ankle (``training.sites.standing_film``,
   a calibration sphere between the knees) at 2000×4500 px, the same at true proportions (hips
   and ankles on it, each knee 0.22 of its width: ``training.long_leg.long_leg_film``) at
   2000×4500 px, and a portrait single-knee film with
   long shafts (``shaft_film``) at 1000 px wide. Each prints its stages: load, find knees (the
   scan), network (the scan's decision), candidates (the scan's other sets, when the knee head
   doubted the decision), scope check, overlay.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_IMAGE = REPO.parent / "shared" / "data" / "kneeKL224" / "val" / "2"


def _default_image() -> Path:
    if DEFAULT_IMAGE.is_dir():
        return sorted(DEFAULT_IMAGE.glob("*.png"))[0]
    sys.exit("no IMAGE given and the kneeKL224 dataset is not beside the repository")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", type=Path)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--engine", default=None, help="auto, onnx, tensorflow or tensorflow-graph")
    parser.add_argument("--compare", action="store_true",
                        help="also time the networks on TensorFlow in this process")
    # Many images: the figure is a difference of two process times, and a process's start-up
    # varies by a second or more on a shared machine; over 160 images that is a few ms each.
    parser.add_argument("--cli-images", type=int, default=160,
                        help="images for the warm `kneeoa predict --overlay-dir` figure (default 160)")
    args = parser.parse_args()
    image_path = args.image or _default_image()

    import numpy as np

    from kneeoa_desktop.core.film.imaging import load_image
    from kneeoa_desktop.core.outputs.overlay import EvidenceOverlay
    from kneeoa_desktop.core.model.model_store import active_weights_dir
    from kneeoa_desktop.core.model.predictor import Predictor

    predictor = Predictor(active_weights_dir(), engine=args.engine)
    engine_args = ["--engine", args.engine] if args.engine else []

    def one_pass():
        image = load_image(image_path)
        prediction = predictor.predict(image)
        overlay = EvidenceOverlay(image.display_u8(), prediction.evidence_map(None, image.pixels.shape))
        overlay.compose(1.0)

    for _ in range(5):
        one_pass()
    warm = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        one_pass()
        warm.append((time.perf_counter() - start) * 1000)

    # The network alone on one 224×224 input: TensorFlow's graph against the engine in use.
    x = np.random.default_rng(0).random((1, *predictor.input_size, 1), dtype=np.float32)
    network = {}
    # Each member of an ensemble alone, in its engine, then TensorFlow's graph of the first.
    engines = {f"{m.name} ({net.engine})": (lambda net=net: net(x))
               for m, net in zip(predictor.manifest.member_list, predictor.networks)}
    engines["all members combined"] = lambda: predictor.predict_array(x[0])
    from kneeoa_desktop.core.model.engines import installed

    with_tensorflow = installed("tensorflow") and installed("keras")
    if with_tensorflow and args.compare:  # the reference engine, for comparison
        reference = Predictor(active_weights_dir(), engine="tensorflow")
        engines.update({f"{m.name} ({net.engine})": (lambda net=net: net(x))
                        for m, net in zip(reference.manifest.member_list, reference.networks)})
        engines["first member, TensorFlow graph"] = lambda: reference.tensorflow_forward()(reference._tf.constant(x))
    for name, run in engines.items():
        run()
    for _ in range(args.repeats):
        for name, run in engines.items():  # interleaved, so a busy moment hits both alike
            start = time.perf_counter()
            run()
            network.setdefault(name, []).append((time.perf_counter() - start) * 1000)

    # Two knees through every member, as a bilateral film is graded, with ONNX Runtime's pools
    # busy-waiting between calls (its default) and without (the app's setting). Timed apart from
    # the figures above, and without spinning first: a spinning pool would slow whatever follows.
    spinning_figures = {}
    if predictor.engine_kind == "onnx":
        import onnxruntime as ort

        from kneeoa_desktop.core.model.onnx_engine import CPU_PROVIDER, INPUT_NAME, _session

        two = np.concatenate([x, x[:, :, ::-1]])
        for spinning in (False, True):
            sessions = [_session(ort, predictor.manifest.directory / m.onnx_file, [CPU_PROVIDER], spinning)
                        for m in predictor.manifest.member_list]
            times = []
            for _ in range(args.repeats + 1):
                start = time.perf_counter()
                for session in sessions:
                    session.run(None, {INPUT_NAME: two})
                times.append((time.perf_counter() - start) * 1000)
            spinning_figures["on" if spinning else "off"] = statistics.median(times[1:])
            del sessions

    import cv2

    from kneeoa_desktop.core.pipeline import GradingPipeline
    from tests.test_localise import bilateral_film

    val = image_path.parent.parent
    right = cv2.imread(str(sorted((val / "2").glob("*R.png"))[0]), cv2.IMREAD_GRAYSCALE)
    left = cv2.imread(str(sorted((val / "2").glob("*L.png"))[0]), cv2.IMREAD_GRAYSCALE)
    fixture, _ = bilateral_film(right, left)
    from kneeoa_desktop.core.film.imaging import decode_image

    import numpy as np

    from kneeoa_desktop.training import sites
    from kneeoa_desktop.training.long_leg import long_leg_film

    def resized(film, width, height=None):
        height = height or round(width * film.shape[0] / film.shape[1])
        return cv2.resize(film, (width, height), interpolation=cv2.INTER_AREA if width < film.shape[1]
                          else cv2.INTER_CUBIC)

    standing, _ = sites.standing_film(right, left, "between")
    long_leg, _ = long_leg_film(right, left, np.random.default_rng(0), 0.22, "between")
    shafts, _ = sites.shaft_film(right.astype(np.float32), 0.5)
    films = {  # the real bilateral example was 571×456; digital films are larger
        "bilateral film": resized(fixture, 600), "bilateral film ": resized(fixture, 2000),
        "standing film of both legs": resized(standing, 2000, 4500),
        "long-leg film, true proportions": resized(long_leg, 2000, 4500),
        "portrait film with shafts": resized(sites._u8(shafts), 1000),
    }
    pipeline = GradingPipeline(predictor)
    bilateral = {}
    for name, film in films.items():
        film_image = decode_image(cv2.imencode(".png", film)[1].tobytes(), "film.png")
        knees_found = len(pipeline(film_image).knees)
        times, stages = [], {}
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = pipeline(film_image)
            drawn = time.perf_counter()
            result.overlay().compose(1.0)
            times.append((time.perf_counter() - start) * 1000)
            for stage, ms in {**result.stages, "overlay": (time.perf_counter() - drawn) * 1000}.items():
                stages.setdefault(stage, []).append(ms)
        bilateral[f"{name.strip()} {film.shape[1]}×{film.shape[0]}"] = (knees_found, times, stages)

    # What one annotated PNG costs the writer threads of `predict --overlay-dir`: drawing it, and
    # encoding and writing it.
    from kneeoa_desktop.core.outputs.export import render_result, write_png_atomic

    graded = pipeline(image_path)
    draw, encode = [], []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeats):
            start = time.perf_counter()
            picture = render_result(graded)
            drawn = time.perf_counter()
            write_png_atomic(picture, Path(out) / "annotated.png")
            draw.append((drawn - start) * 1000)
            encode.append((time.perf_counter() - drawn) * 1000)

    rng = np.random.default_rng(0)
    big = EvidenceOverlay(rng.integers(0, 255, (1024, 1024), dtype=np.uint8),
                          rng.random((14, 14)).astype(np.float32))
    slider = []
    for i in range(args.repeats):
        start = time.perf_counter()
        big.compose(0.5 + 3.0 * i / args.repeats)
        slider.append((time.perf_counter() - start) * 1000)

    env = dict(os.environ, PYTHONPATH=str(REPO))
    batch_dir = image_path.parent
    others = [p for p in sorted(batch_dir.glob("*.png")) if p != image_path][:args.cli_images]
    with tempfile.TemporaryDirectory() as out:
        def cli_seconds(paths):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "kneeoa_desktop.cli", *engine_args, "predict", "--overlay-dir", out,
                            *map(str, paths)], check=True, capture_output=True, env=env)
            return time.perf_counter() - start
        one = min(cli_seconds([image_path]) for _ in range(3))
        many = min(cli_seconds([image_path, *others]) for _ in range(3))
    per_image_cli = (many - one) / max(1, len(others)) * 1000

    def cold_seconds(*engine):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kneeoa_desktop.cli", *engine, "predict", "--json", str(image_path)],
                       check=True, capture_output=True, env=env)
        return time.perf_counter() - start

    cold = [cold_seconds(*engine_args) for _ in range(5)]
    cold_tf = ([cold_seconds("--engine", "tensorflow") for _ in range(3)]
               if with_tensorflow and predictor.engine_kind == "onnx" else [])

    print(f"machine: {os.cpu_count()} CPU cores, device {predictor.device}, engine {predictor.engine}, "
          f"model {predictor.manifest.tag}")
    print(f"image: {image_path.name}")
    print(f"warm predict + evidence map + overlay: median {statistics.median(warm):.1f} ms, "
          f"p90 {sorted(warm)[int(0.9 * len(warm))]:.1f} ms (n={len(warm)})")
    print("network alone, one 224×224 input: " + ", ".join(
        f"{name} median {statistics.median(t):.1f} ms" for name, t in network.items()))
    if spinning_figures:
        print("two knees through all members (ONNX Runtime): " + ", ".join(
            f"spinning {k} median {v:.1f} ms" for k, v in spinning_figures.items()))
    print(f"overlay recompose 1024×1024: median {statistics.median(slider):.2f} ms")
    print(f"annotated PNG of that image ({picture.shape[1]}×{picture.shape[0]}): drawing median "
          f"{statistics.median(draw):.1f} ms, encoding and writing median {statistics.median(encode):.1f} ms")
    print(f"warm `kneeoa predict --overlay-dir` per image: {per_image_cli:.1f} ms "
          f"(({many:.2f} s for {1 + len(others)} images − {one:.2f} s for 1) / {len(others)})")
    print(f"cold `kneeoa predict --json` one image ({predictor.engine}): median {statistics.median(cold):.2f} s "
          f"(runs: {', '.join(f'{c:.2f}' for c in cold)})")
    if cold_tf:
        print(f"cold `kneeoa --engine tensorflow predict --json` one image: median {statistics.median(cold_tf):.2f} s "
              f"(runs: {', '.join(f'{c:.2f}' for c in cold_tf)})")
    for size, (knees_found, times, stages) in bilateral.items():
        print(f"warm {size} (find knees + {knees_found} knees + scope + overlay): "
              f"median {statistics.median(times):.1f} ms, p90 {sorted(times)[int(0.9 * len(times))]:.1f} ms; "
              "of which (medians) " + ", ".join(f"{stage} {statistics.median(ms):.1f} ms"
                                                for stage, ms in stages.items() if stage != "load"))
    files = ", ".join(f"{f} {(predictor.manifest.directory / f).stat().st_size / 1e6:.1f} MB"
                      for m in predictor.manifest.member_list for f in (m.file, m.onnx_file) if f)
    print(f"model files: {files}; together {predictor.manifest.total_bytes / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
