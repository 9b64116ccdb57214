"""Coverage-guided fuzzing of the image loader (``decode_image``) with atheris (libFuzzer).

    .venv/bin/pip install atheris    # not a project dependency (3.0.0 has a Linux wheel for CPython 3.11)
    nice -n 10 .venv/bin/python scripts/fuzz_atheris.py --minutes 10 [--corpus DIR] [--artifacts DIR]

The seed corpus is one small valid file per format and layout (``tests/samples.seed_images``:
PNG 1/8/16-bit, palette, RGBA, JPEG baseline/progressive, BMP, TIFF 8/16-bit/float/LZW and
DICOM plain, MONOCHROME1 + window, no preamble, JPEG baseline, RLE, JPEG 2000, JPEG-LS),
written to a temporary folder unless ``--corpus DIR`` is given (new inputs are then kept there).

The contract under test (``tests/samples.check_decode_contract``): every input gives a sane
``LoadedImage`` or a typed ``KneeOAError`` whose message is one sentence. Anything else is a
finding: other exceptions and broken contracts are caught in-process and saved as
``finding-<signature>-<sha1>.bin`` with a ``.txt`` traceback, and the run goes on; hangs
(``--timeout``) and memory blow-ups (``--rss-limit-mb``) stop libFuzzer, which saves the input as
``timeout-*`` / ``oom-*``, and the run restarts from the corpus for the time that is left.
Artifacts go to ``--artifacts`` (default ``runs/fuzz/``, which git ignores).

Without atheris, ``--engine random`` runs the same contract over random mutations of the seeds
(no coverage guidance; a hang inside native code is not interrupted there).

At the end it prints: executions, executions per second, corpus size and findings.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # `tests.samples` holds the seed writers and the contract
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

INSTALL_HINT = "atheris is not installed: run `.venv/bin/pip install atheris` (or use --engine random)."
#: Keep at most this many inputs per distinct finding signature.
PER_SIGNATURE = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="total fuzzing time (default 10)")
    parser.add_argument("--corpus", type=Path, help="corpus folder (seeded if empty; new inputs are kept)")
    parser.add_argument("--artifacts", type=Path, default=REPO / "runs" / "fuzz",
                        help="where findings are saved (default: runs/fuzz/)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take (default 10)")
    parser.add_argument("--rss-limit-mb", type=int, default=3072, help="memory limit (default 3072)")
    parser.add_argument("--engine", choices=("atheris", "random"), default="atheris")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("libfuzzer_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.artifacts.mkdir(parents=True, exist_ok=True)
    if args.child:
        return run_child(args)

    temp = None
    corpus = args.corpus
    if corpus is None:
        temp = tempfile.mkdtemp(prefix="kneeoa-fuzz-corpus-")
        corpus = Path(temp)
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        from tests.samples import seed_images

        seed_images(corpus)
    seeds = sum(1 for _ in corpus.iterdir())
    started = time.time()
    try:
        if args.engine == "random":
            stats = run_random(args, corpus)
        else:
            try:
                import atheris  # noqa: F401
            except ImportError:
                print(INSTALL_HINT, file=sys.stderr)
                return 2
            stats = run_atheris(args, corpus)
        summary(args, corpus, seeds, stats, started)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    return 1 if findings(args.artifacts, started) else 0


# --- the harness, shared by both engines ---------------------------------------------------------

class Harness:
    """Runs the contract on one input; records anything unexpected and carries on."""

    def __init__(self, artifacts: Path):
        from tests.samples import check_decode_contract

        self.check = check_decode_contract
        self.artifacts = artifacts
        self.seen: dict[str, int] = {}

    def __call__(self, data: bytes) -> None:
        try:
            self.check(data)
        except Exception as exc:  # the contract allows only typed errors, caught inside check
            self.record(data, exc)

    def record(self, data: bytes, exc: BaseException) -> None:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        signature = f"{type(exc).__name__}@{where}"
        key = hashlib.sha1(signature.encode()).hexdigest()[:8]
        count = self.seen.get(key, 0) + 1
        self.seen[key] = count
        if count > PER_SIGNATURE:
            return
        name = f"finding-{key}-{hashlib.sha1(data).hexdigest()[:12]}"
        (self.artifacts / f"{name}.bin").write_bytes(data)
        (self.artifacts / f"{name}.txt").write_text(
            signature + "\n" + "".join(traceback.format_exception(exc)), encoding="utf-8")
        print(f"FINDING {signature}: {type(exc).__name__}: {str(exc)[:200]!r} -> {name}.bin",
              file=sys.stderr, flush=True)


def run_child(args) -> int:
    """Inside the libFuzzer process: instrument the loader and pydicom, then fuzz."""
    import atheris

    with atheris.instrument_imports(include=["kneeoa_desktop", "pydicom"]):
        import pydicom.pixels  # noqa: F401  (decoders are imported lazily: pull them in instrumented)
        import kneeoa_desktop.core.film.dicom  # noqa: F401
        import kneeoa_desktop.core.film.imaging  # noqa: F401
    harness = Harness(args.artifacts)
    atheris.Setup([sys.argv[0], *args.libfuzzer_args], harness)
    atheris.Fuzz()  # returns only through exit()
    return 0


def run_atheris(args, corpus: Path) -> dict:
    """Run libFuzzer children until the time is up, restarting after a timeout or OOM."""
    deadline = time.monotonic() + args.minutes * 60
    stats = {"executions": 0, "seconds": 0.0, "restarts": 0}
    while (left := deadline - time.monotonic()) > 5:
        command = [sys.executable, __file__, "--child", "--artifacts", str(args.artifacts), "--",
                   f"-max_total_time={int(left)}", f"-timeout={args.timeout}",
                   f"-rss_limit_mb={args.rss_limit_mb}", "-max_len=65536", "-print_final_stats=1",
                   f"-artifact_prefix={args.artifacts}/", str(corpus)]
        start = time.monotonic()
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 errors="replace", env=dict(os.environ, PYTHONHASHSEED="0"))
        runs = progress = None
        saved = False
        for line in child.stdout:  # libFuzzer's progress and our FINDING lines, streamed to the log
            sys.stdout.write(line)
            sys.stdout.flush()
            if match := re.match(r"stat::number_of_executed_units:\s*(\d+)", line):
                runs = int(match.group(1))
            elif match := re.match(r"#(\d+)\s", line):
                progress = int(match.group(1))
            saved = saved or bool(re.search(r"(timeout|oom|crash)-[0-9a-f]+", line))
        returncode = child.wait()
        stats["seconds"] += time.monotonic() - start
        # Killed before its final stats (timeout, OOM): count up to its last progress line.
        stats["executions"] += runs if runs is not None else (progress or 0)
        if returncode == 0:
            break
        stats["restarts"] += 1
        if runs is None and not saved:
            print(f"libFuzzer stopped with exit status {returncode} and saved nothing; giving up.",
                  file=sys.stderr)
            break
    return stats


def run_random(args, corpus: Path) -> dict:
    """No atheris: random mutations of the corpus, under a per-input alarm."""
    import signal

    harness = Harness(args.artifacts)
    seeds = [p.read_bytes() for p in sorted(corpus.iterdir()) if p.is_file()]
    rng = random.Random(0)

    def alarm(_signum, _frame):
        raise TimeoutError(f"one input took more than {args.timeout} s")

    signal.signal(signal.SIGALRM, alarm)
    deadline = time.monotonic() + args.minutes * 60
    start, executions = time.monotonic(), 0
    while time.monotonic() < deadline:
        data = mutate(rng, rng.choice(seeds), seeds)
        signal.alarm(args.timeout)
        try:
            harness(data)
        finally:
            signal.alarm(0)
        executions += 1
    return {"executions": executions, "seconds": time.monotonic() - start, "restarts": 0}


def mutate(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    """A few random edits of the kinds that break parsers: flips, cuts, runs, splices, big ints."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(6)
        pos = rng.randrange(max(1, len(out)))
        if kind == 0 and out:
            out[pos] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del out[pos:]
        elif kind == 2:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif kind == 3:
            del out[pos:pos + rng.randint(1, 64)]
        elif kind == 4:
            out[pos:pos + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff",
                                           b"\x00\x01\x00\x00", b"\xea\x60\x00\x00"])
        else:
            other = rng.choice(seeds)
            cut = rng.randrange(max(1, len(other)))
            out = out[:pos] + other[cut:cut + rng.randint(1, 512)] + out[pos:]
    return bytes(out)


# --- the summary ---------------------------------------------------------------------------------

def findings(artifacts: Path, since: float) -> list[Path]:
    """Inputs saved by this run (the folder may hold earlier runs' findings too)."""
    return sorted(p for p in artifacts.iterdir()
                  if p.is_file() and re.match(r"(finding|crash|timeout|oom|leak|slow-unit)-", p.name)
                  and p.suffix != ".txt" and p.stat().st_mtime >= since)


def summary(args, corpus: Path, seeds: int, stats: dict, started: float) -> None:
    found = findings(args.artifacts, started)
    signatures = sorted({p.name.split("-")[1] if p.name.startswith("finding-") else p.name.split("-")[0]
                         for p in found})
    seconds = max(stats["seconds"], 1e-9)
    corpus_size = sum(1 for p in corpus.iterdir() if p.is_file())
    print()
    print(f"engine:     {args.engine}, {args.minutes:g} min requested, {seconds / 60:.1f} min fuzzed"
          + (f", {stats['restarts']} restart(s)" if stats.get("restarts") else ""))
    print(f"executions: {stats['executions']} ({stats['executions'] / seconds:.0f} exec/s)")
    print(f"corpus:     {corpus_size} inputs ({seeds} seeds)")
    print(f"findings:   {len(found)} input(s), {len(signatures)} distinct"
          + (f" in {args.artifacts}: " + ", ".join(signatures) if found else ""))


if __name__ == "__main__":
    sys.exit(main())
