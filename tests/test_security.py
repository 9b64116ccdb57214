"""Security guards: model files cannot run code, and the program never hands paths to a shell.

(https-only, sha256-pinned downloads are tested in test_download.py; patient identifiers in
logs in test_logs.py and in the window in test_gui_model.py.)
"""

from __future__ import annotations

import ast
import json
import zipfile
from pathlib import Path

import pytest

from kneeoa_desktop.core import errors
from kneeoa_desktop.core.model.manifest import ModelManifest, sha256_of
from kneeoa_desktop.core.model.predictor import Predictor

PACKAGE = Path(__file__).resolve().parents[1] / "kneeoa_desktop"

# Modules and calls that run commands or turn data into code. The program needs none of them:
# it opens files itself and never starts another program with a user's path.
FORBIDDEN_MODULES = {"subprocess", "pickle", "marshal", "shelve", "dill", "cloudpickle"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRS = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"),
                   ("os", "spawnv"), ("os", "startfile"), ("np", "load")}


# The one reviewed exception: the training-time reader of the ImageNet weights (.pth), whose
# Unpickler allows only an ordered dict, the tensor rebuilder and the storage types and refuses
# everything else (tests/test_pretrained.py::test_reader_refuses_anything_but_tensors). The
# app's inference path never imports it.
ALLOWED = {"training/torch_weights.py": {"pickle"}}


def _python_files():
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_shell_exec_or_pickle_in_the_program(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                problems.append(node.module)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                problems.append(func.id)
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and (func.value.id, func.attr) in FORBIDDEN_ATTRS:
                if (func.value.id, func.attr) == ("np", "load") and _no_pickle(node):
                    continue
                problems.append(f"{func.value.id}.{func.attr}")
            for keyword in node.keywords:
                if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant)
                                                   and keyword.value.value is False):
                    problems.append("shell=")
    allowed = ALLOWED.get(path.relative_to(PACKAGE).as_posix(), set())
    problems = [p for p in problems if p not in allowed]
    assert not problems, f"{path.name}: {problems}"


def _no_pickle(call: ast.Call) -> bool:
    """np.load is fine as long as pickles stay off (the default; an explicit True is not)."""
    return not any(k.arg == "allow_pickle" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                   for k in call.keywords)


def _tiny_model(tmp_path, name="tiny"):
    import keras

    inputs = keras.Input((32, 32, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="features")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax", name="head")(x))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return path


def _manifest(path: Path) -> ModelManifest:
    return ModelManifest(name=path.stem, version="1", file=path.name, sha256=sha256_of(path),
                         input_size=(32, 32), directory=path.parent)


def _rewrite_config(path: Path, change) -> None:
    """Edit config.json inside a .keras archive, as an attacker with a hex editor would."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.slow
def test_a_model_naming_an_arbitrary_python_callable_is_refused(tmp_path):
    sentinel = tmp_path / "pwned"
    path = _tiny_model(tmp_path)

    def point_head_at_popen(config):
        for layer in config["config"]["layers"]:
            if layer["config"]["name"] == "head":
                layer["config"]["activation"] = {
                    "module": "subprocess", "class_name": "Popen", "registered_name": "Popen",
                    "config": {"args": f"touch {sentinel}", "shell": True}}

    _rewrite_config(path, point_head_at_popen)
    with pytest.raises(errors.ModelError, match="cannot be loaded"):
        Predictor(_manifest(path))
    assert not sentinel.exists()


@pytest.mark.slow
def test_a_model_with_an_unknown_custom_layer_is_refused(tmp_path):
    path = _tiny_model(tmp_path)

    def rename_a_layer_class(config):
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Conv2D":
                layer["class_name"], layer["module"] = "Backdoor", "evil_package.layers"
                layer["registered_name"] = "evil_package>Backdoor"

    _rewrite_config(path, rename_a_layer_class)
    with pytest.raises(errors.ModelError, match="cannot be loaded"):
        Predictor(_manifest(path))


@pytest.mark.slow
def test_a_registered_non_keras_layer_is_refused_even_though_keras_could_build_it(tmp_path):
    """Code registered in this process is still not ours to run from a model file."""
    import keras

    @keras.saving.register_keras_serializable(package="kneeoa_test_security")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = keras.Input((32, 32, 1))
    x = Doubler()(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax", name="head")(x))
    path = tmp_path / "custom.keras"
    model.save(path)
    with pytest.raises(errors.ModelError, match="unknown layer type"):
        Predictor(_manifest(path))


def test_a_model_file_swapped_after_the_manifest_was_written_is_refused(tmp_path):
    path = _tiny_model(tmp_path)
    manifest = _manifest(path)
    other = _tiny_model(tmp_path, "other")
    path.write_bytes(other.read_bytes())  # same shape, different weights: still refused
    with pytest.raises(errors.ModelError, match="checksum"):
        Predictor(manifest)
