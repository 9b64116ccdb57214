"""Run the program with TensorFlow made unimportable, for tests/test_lean_engine.py (a subprocess).

    python tests/lean_probe.py [--block] cli ARGS…        # `kneeoa ARGS…`
    python tests/lean_probe.py [--block] gui IMAGE OUT.npz  # the window, offscreen, one film

``--block`` puts a meta-path finder first that refuses ``tensorflow``, ``keras`` and ``tf2onnx``
(as a machine without them would). Either way the last line on stderr is
``lean-probe imported: [...]``: the TensorFlow or Keras modules that ended up in ``sys.modules``.
The GUI mode saves what the window showed: the probabilities, the evidence, the region, the
image pane's pixels and the status bar's device text.
"""

from __future__ import annotations

import importlib.abc
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
BLOCKED = ("tensorflow", "keras", "tf2onnx", "tf_keras")


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked (lean-probe)")
        return None


def _report() -> None:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(f"lean-probe imported: {json.dumps(loaded)}", file=sys.stderr, flush=True)


def _gui(image: str, out: str) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kneeoa_desktop.gui.app import launch

    from tests.gui_helpers import qimage_to_bgr

    app, window, _ = launch([image, "--language", "en"])
    seen = {}

    def on_result(result):
        # The pane is repainted from the result in the same turn of the event loop: read it next.
        def save():
            knee = result.result.knees[0]
            seen.update(probabilities=knee.prediction.probabilities, evidence=knee.prediction.evidence,
                        region=np.array(knee.region), shown=qimage_to_bgr(window.view.shown_image()),
                        device=np.array(window.status_bar.device_label.text()))
            app.quit()
        QTimer.singleShot(50, save)

    window.result_shown.connect(on_result)
    window.error_shown.connect(lambda text: (seen.update(error=np.array(str(text))), app.quit()))
    QTimer.singleShot(120_000, app.quit)
    app.exec()
    window.close()
    if "probabilities" not in seen:
        print(f"lean-probe: no result ({seen.get('error', 'timed out')})", file=sys.stderr)
        return 1
    np.savez(out, **seen)
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--block":
        sys.meta_path.insert(0, _Blocker())
        argv = argv[1:]
    try:
        if argv[0] == "cli":
            from kneeoa_desktop.cli.entry import main as cli_main

            return cli_main(argv[1:])
        return _gui(argv[1], argv[2])
    finally:
        _report()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
