"""Endurance, CI-sized: scripts/endurance.py's three runs with smaller counts.

Many gradings in one process keep resident memory flat (after a warm-up), the GUI worker
answers every request, and a burst of drops ends with the window showing the last image.
Behaviour only: no timing is asserted, since CI machines differ. The full-size figures come
from `python scripts/endurance.py` (see docs/ROBUSTNESS.md).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "endurance.py"
MAX_GROWTH_MB = 50


@pytest.fixture(scope="module")
def endurance():
    spec = importlib.util.spec_from_file_location("kneeoa_endurance", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def images(endurance):
    return endurance.find_images(None, limit=12)


@pytest.mark.slow
def test_core_gradings_keep_memory_flat(endurance, predictor, images):
    figure = endurance.core_run(predictor, images, 150)
    print(figure.line())
    assert figure.growth <= MAX_GROWTH_MB, figure.line()


@pytest.mark.slow
def test_worker_answers_every_request_and_keeps_memory_flat(endurance, predictor, images, qapp):
    figure = endurance.worker_run(predictor, images, 100)
    print(figure.line())
    assert figure.failures == 0, figure.note
    assert figure.growth <= MAX_GROWTH_MB, figure.line()


@pytest.mark.slow
def test_rapid_drops_end_with_the_last_image(endurance, predictor, images, qapp):
    figure, problems = endurance.drops_run(predictor, images, 50)
    print(figure.line())
    assert not problems, problems
