"""Print the Windows bundle's requirements, one a line: what both Windows builds install.

    python packaging/windows/requirements.py [ONNXRUNTIME_PACKAGE] > requirements.txt

The project's default dependencies from pyproject.toml (the lean engine: ONNX Runtime, no
TensorFlow or Keras), with ``onnxruntime`` swapped for ONNXRUNTIME_PACKAGE when given (e.g.
``onnxruntime-directml``), the ``build`` extra (PyInstaller), and ``msvc-runtime``, whose
msvcp140*.dll build.spec bundles (ONNX Runtime needs them; a clean Windows PC may lack them).

Both ``packaging/build-windows-wine.sh`` (Linux, under Wine) and ``packaging/build.ps1`` (real
Windows) install exactly this list with ``-c packaging/windows/requirements-windows.txt`` (the
pins), so the two paths put the same packages into the same bundle. Standard library only
(tomllib: Python 3.11+), so any Python of the build machine can run it.
"""

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Packages a Linux pip leaves out when it downloads for Windows: they are required only under
# `sys_platform == "win32"` markers (PyInstaller's pefile and pywin32-ctypes, tqdm's colorama),
# which pip evaluates against the machine it runs on. Listing them does no harm on Windows.
WINDOWS_ONLY = ["pefile", "pywin32-ctypes", "colorama"]


def requirements(ort_package: str = "onnxruntime") -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = [ort_package if dep.startswith("onnxruntime") else dep for dep in project["dependencies"]]
    return deps + project["optional-dependencies"]["build"] + ["msvc-runtime"] + WINDOWS_ONLY


if __name__ == "__main__":
    print("\n".join(requirements(*sys.argv[1:2])))
