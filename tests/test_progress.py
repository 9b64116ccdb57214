"""The progress bar of long CLI jobs: drawn on a terminal only, never with --json or when piped."""

from __future__ import annotations

import io
import sys
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from kneeoa_desktop.cli import common as cli_common
from kneeoa_desktop.cli import entry as cli
from kneeoa_desktop.cli.progress import Progress
from kneeoa_desktop.core.errors import ImageLoadError


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _terminal_env(monkeypatch):
    monkeypatch.delenv("KNEEOA_NO_PROGRESS", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("COLUMNS", "100")


def test_bar_shows_count_rate_and_time_left_then_clears():
    stream, clock = Terminal(), Clock()
    with Progress(10, "grading", stream=stream, clock=clock) as bar:
        clock.now += 2.0
        bar.advance(4)  # 2 files a second, 6 to go: 3 s
        shown = stream.getvalue()
        assert shown.startswith("\rgrading  [") and "4/10" in shown
        assert "2.0 files/s" in shown and "0:03 left" in shown
    text = stream.getvalue()
    assert text.endswith("\r")  # the line is left empty for what comes next
    assert text.rsplit("\r", 2)[-2].strip() == ""
    assert all(len(line) < 100 for line in text.split("\r"))  # never wraps


def test_redraws_are_throttled_and_fit_a_narrow_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    stream, clock = Terminal(), Clock()
    bar = Progress(1000, "evaluating", stream=stream, clock=clock)
    for _ in range(50):  # 50 files in 0.05 s: one draw
        clock.now += 0.001
        bar.advance()
    assert stream.getvalue().count("\r") == 1
    clock.now += 0.2
    bar.advance()
    assert stream.getvalue().count("\r") == 2 and "51/1000" in stream.getvalue()
    assert all(len(line) <= 39 for line in stream.getvalue().split("\r"))
    bar.update(1000)  # the last file is always shown
    assert "1000/1000" in stream.getvalue()


def test_messages_go_on_their_own_line():
    stream, clock = Terminal(), Clock()
    bar = Progress(10, stream=stream, clock=clock)
    bar.advance()
    bar.write("kneeoa: bad.png: not an image")
    assert stream.getvalue().endswith("\rkneeoa: bad.png: not an image\n")
    bar.advance()  # drawn again at once, below the message
    assert stream.getvalue().rsplit("\n", 1)[1].startswith("\r[") and "2/10" in stream.getvalue()


@pytest.mark.parametrize("stream, kwargs, env", [
    (io.StringIO(), {}, {}),  # piped
    (Terminal(), {"json_output": True}, {}),  # --json
    (Terminal(), {}, {"KNEEOA_NO_PROGRESS": "1"}),
    (Terminal(), {}, {"TERM": "dumb"}),
])
def test_nothing_is_written_when_not_wanted(monkeypatch, stream, kwargs, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with Progress(10, "grading", stream=stream, **kwargs) as bar:
        for _ in range(10):
            bar.advance()
        bar.clear()
    assert not bar.enabled and stream.getvalue() == ""


def test_few_files_get_no_bar_and_the_total_can_come_later():
    stream = Terminal()
    assert not Progress(2, stream=stream).enabled
    bar = Progress(0, stream=stream)  # evaluate: sized by its first report
    bar.update(1, 20)
    assert bar.enabled and "1/20" in stream.getvalue()


# --- The wiring: `kneeoa predict` and `kneeoa evaluate` with a stand-in for the model ---------

def _knee(path):
    prediction = SimpleNamespace(grade=2, probabilities=np.array([0.1, 0.2, 0.4, 0.2, 0.1]), oa_probability=0.7,
                                 site="", elapsed_ms=1.0, source_name="", model="fake@1")
    return SimpleNamespace(prediction=prediction, side="right", side_letter="R", in_scope=True, scope_note=None,
                           region=(0, 0, 64, 64), as_dict=lambda: {"file": prediction.source_name, "grade": 2})


class FakePipeline:
    def __init__(self, predictor):
        pass

    def __call__(self, path):
        if "bad" in str(path):
            raise ImageLoadError("This file is not an image.")
        return SimpleNamespace(knees=[_knee(path)])

    def grade_whole(self, images):
        return [SimpleNamespace(knees=[_knee(None)]) for _ in images]


@pytest.fixture
def folder(tmp_path):
    for grade in range(5):
        (tmp_path / str(grade)).mkdir()
        for i in range(2):
            cv2.imwrite(str(tmp_path / str(grade) / f"{grade}{i}.png"), np.full((64, 64), 40 * grade + i, np.uint8))
    return tmp_path


@pytest.fixture
def fake_model(monkeypatch):
    import kneeoa_desktop.core.pipeline as pipeline
    import kneeoa_desktop.training.evaluate as evaluate

    monkeypatch.setattr(pipeline, "GradingPipeline", FakePipeline)
    monkeypatch.setattr(evaluate, "GradingPipeline", FakePipeline)
    monkeypatch.setattr(cli_common, "predictor_for", lambda args: SimpleNamespace(manifest=SimpleNamespace(tag="fake@1"),
                                                                        site_profile=None))


def _run(capsys, monkeypatch, tty: bool, *args):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    code = cli.main([str(a) for a in args])
    return (code, *capsys.readouterr())


def test_predict_over_a_folder_shows_the_bar_on_a_terminal_only(capsys, monkeypatch, folder, fake_model):
    (folder / "0" / "bad.png").write_bytes((folder / "0" / "00.png").read_bytes())
    code, out, err = _run(capsys, monkeypatch, True, "predict", folder)
    assert code == 1 and "11/11" in err and "files/s" in err and "left" in err
    assert "\rkneeoa: " in err and "bad.png: This file is not an image.\n" in err  # on its own line
    assert err.endswith("\r")  # cleared at the end
    code, piped_out, piped_err = _run(capsys, monkeypatch, False, "predict", folder)
    assert piped_out == out  # stdout is the same either way
    assert "/11" not in piped_err and piped_err.startswith("kneeoa: ")
    code, json_out, json_err = _run(capsys, monkeypatch, True, "predict", "--json", folder)
    assert "/11" not in json_err and json_err.startswith("kneeoa: ")


def test_evaluate_reports_its_progress(capsys, monkeypatch, folder, fake_model, tmp_path_factory):
    plot = tmp_path_factory.mktemp("plot") / "cm.png"
    code, out, err = _run(capsys, monkeypatch, True, "evaluate", folder, "--plot", plot)
    assert code == 0 and "evaluating  [" in err and "10/10" in err and err.endswith("\r")
    assert "accuracy" in out and "10/10" not in out
    code, out, err = _run(capsys, monkeypatch, True, "evaluate", folder, "--plot", plot, "--json")
    assert code == 0 and err == "" and out.startswith("{")
