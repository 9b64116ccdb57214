#!/usr/bin/env python3
"""Print the size of a default install: a fresh virtual environment with `pip install -e .` (no extras).

Usage: python scripts/measure_install.py [--keep DIR] [--extras EXTRAS]

It creates the environment in a temporary folder (or DIR with --keep), installs the project
from this checkout as the README's start command does (editable: the program reads resources/
and weights/ from the checkout), checks that TensorFlow and Keras are absent (the lean engine grades without
them) and that the program grades its built-in sample, then prints the site-packages size and
its largest packages. ``--extras tensorflow`` measures the install with the TensorFlow engine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="create the environment here and keep it")
    parser.add_argument("--extras", default="", help="extras to install, e.g. tensorflow")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        venv = args.keep or Path(scratch) / "venv"
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        target = f"{REPO}[{args.extras}]" if args.extras else str(REPO)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "-e", target], check=True)
        seconds = time.monotonic() - started
        site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
        absent = {m: subprocess.run([python, "-c", f"import {m}"], capture_output=True).returncode != 0
                  for m in ("tensorflow", "keras")}
        check = subprocess.run([venv / "bin" / "kneeoa", "self-test"], capture_output=True, text=True)
        sizes = sorted(((_size_mb(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)
        total = _size_mb(site)
        print(f"pip install -e {'.[' + args.extras + ']' if args.extras else '.'} into a fresh venv: "
              f"{seconds:.0f} s (pip's cache as it was)")
        print(f"site-packages: {total:.0f} MB")
        for mb, name in sizes[:12]:
            print(f"  {mb:7.1f} MB  {name}")
        print("TensorFlow importable: " + ("no" if absent["tensorflow"] else "yes")
              + "; Keras importable: " + ("no" if absent["keras"] else "yes"))
        print(f"kneeoa self-test: {(check.stdout or check.stderr).strip()}")
        return 0 if check.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
