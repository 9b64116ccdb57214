"""The evidence maps are what the program says they are: for grade g, ReLU(features · W_g).

Checked on real radiographs against the shipped model, computed here independently of the
predictor's own forward function: the feature map comes from a plain ``keras.Model`` cut at the
layer named "features", W is the kernel of the Dense layer named "head". With test-time flip
on (the manifest says), the predictor averages the image's map and its mirror image's map
mirrored back; each grade's map is then divided by its peak. For an ensemble, this is done per
member (each from its own model's layers) and the members' maps are averaged and divided by
their peak again. ``Prediction.evidence_map`` is that map upsampled with cv2's bicubic resize
and clipped to [0, 1].

Nothing here hard-codes the feature resolution or the number of channels: both are read from
the model, so the test holds for any model with those two layers.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kneeoa_desktop.core.verdict.grades import NUM_GRADES
from kneeoa_desktop.core.film.imaging import load_image
from kneeoa_desktop.core.knees.preprocess import preprocess

from .conftest import DATA_DIR, HAVE_DATA, REPO

pytestmark = pytest.mark.slow  # loads the model

# Float32 through two different graphs (the predictor's tf.function and an eager Keras call):
# the maps agree to a few 1e-6; a wrong weight column, a missed mirror or a missing peak
# normalisation is off by far more than this.
TOLERANCE = 1e-4


def _real_radiographs() -> list:
    """A KL0 and a KL4 knee from the dataset's val split, else the shipped dataset samples."""
    if HAVE_DATA:
        return [sorted((DATA_DIR / "val" / grade).glob("*.png"))[0] for grade in ("0", "4")]
    return sorted((REPO / "resources" / "samples").glob("kneeKL224-*.png"))[:2]


RADIOGRAPHS = _real_radiographs()
if not RADIOGRAPHS:
    pytest.skip(f"no real radiograph: neither the dataset ({DATA_DIR}) nor resources/samples/kneeKL224-*.png "
                "is present (set KNEEOA_DATA to a kneeKL224-shaped folder)", allow_module_level=True)


@pytest.fixture(scope="module")
def network(predictor):
    """For each member of the shipped model: (feature-map model, head kernel W (C, 5), head bias,
    head layer), cut from that member's own Keras model."""
    import keras

    from kneeoa_desktop.core.model.predictor import Predictor

    # The Keras models themselves (the TensorFlow engine's members), whatever engine the
    # predictor under test runs: the lean engine's maps must be these too.
    members = []
    for net in Predictor(predictor.manifest, engine="tensorflow-graph").networks:
        model = net.model
        names = {layer.name for layer in model.layers}
        if not {"features", "head"} <= names or not isinstance(model.get_layer("head"), keras.layers.Dense):
            pytest.skip("a member has no 'features' layer and Dense 'head': its evidence is Grad-CAM, not CAM")
        head = model.get_layer("head")
        cut = keras.Model(model.inputs, [model.get_layer("features").output, head.output])
        kernel = np.asarray(head.kernel, np.float64)
        bias = np.asarray(head.bias, np.float64) if head.use_bias else np.zeros(kernel.shape[1])
        members.append((cut, kernel, bias, head))
    return members


def _features_and_head(cut, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fmap, head_out = cut([x[None]], training=False)
    return np.asarray(fmap, np.float64)[0], np.asarray(head_out, np.float64)[0]


def _relu_cam(fmap: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """(h, w, C) · (C, 5) → (h, w, 5), negatives cut to zero."""
    return np.maximum(np.tensordot(fmap, kernel, axes=([2], [0])), 0.0)


def _by_peak(cam: np.ndarray) -> np.ndarray:
    peak = cam.max(axis=(0, 1), keepdims=True)
    return np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)


@pytest.fixture(scope="module", params=RADIOGRAPHS, ids=lambda p: p.name)
def case(request, predictor, network):
    """(prediction, independently computed evidence, the same without the flip, image shape).

    Each member's map is ReLU(features · W) scaled to its peak (its mirror's map mirrored back
    and averaged in first when the model uses the flip); an ensemble's maps are averaged and
    scaled to the peak again."""
    image = load_image(request.param)
    prediction = predictor.predict(image)
    x = preprocess(image.pixels, predictor.input_size)  # the one preprocessing function
    maps, plain = [], []
    for cut, kernel, bias, head in network:
        fmap, head_out = _features_and_head(cut, x)
        # The premise of CAM: the head is linear in the spatial mean of this very feature map,
        # so ReLU(features · W_g) is grade g's score spread over the image.
        np.testing.assert_allclose(np.asarray(head.activation(fmap.mean(axis=(0, 1)) @ kernel + bias)),
                                   head_out, rtol=1e-4, atol=1e-5)
        cam = _relu_cam(fmap, kernel)
        plain.append(_by_peak(cam))
        if predictor.manifest.test_time_flip:
            mirror_fmap, _ = _features_and_head(cut, np.ascontiguousarray(x[:, ::-1]))
            cam = (cam + _relu_cam(mirror_fmap, kernel)[:, ::-1]) / 2.0  # the mirror's map mirrored back
        maps.append(_by_peak(cam))
    return prediction, _by_peak(np.mean(maps, axis=0)), _by_peak(np.mean(plain, axis=0)), image.pixels.shape


def test_evidence_is_relu_of_features_times_head_weights(case, network):
    prediction, expected, unflipped, _ = case
    cut = network[0][0]
    h, w = cut.outputs[0].shape[1:3]
    assert prediction.evidence.shape == (h, w, NUM_GRADES) == expected.shape
    assert prediction.evidence.dtype == np.float32
    np.testing.assert_allclose(prediction.evidence, expected, rtol=0, atol=TOLERANCE)
    for g in range(NUM_GRADES):
        if expected[:, :, g].max() > 0:
            assert prediction.evidence[:, :, g].max() == pytest.approx(1.0, abs=1e-6)
    # The comparison can tell the maps apart: grades differ, and so does the map without the flip.
    assert not np.allclose(expected[:, :, 0], expected[:, :, 4], atol=10 * TOLERANCE)
    if np.abs(unflipped - expected).max() > 10 * TOLERANCE:
        assert not np.allclose(prediction.evidence, unflipped, atol=TOLERANCE)


@pytest.mark.parametrize("shape", ["image", (300, 200), (97, 131)])
def test_evidence_map_is_that_map_upsampled(case, shape):
    prediction, expected, _, image_shape = case
    shape = image_shape if shape == "image" else shape
    for g in range(NUM_GRADES):
        got = prediction.evidence_map(g, shape)
        assert got.shape == tuple(shape)
        # Exactly cv2's bicubic resize of the stored map, clipped (bicubic overshoots past 0 and 1) …
        cam = np.ascontiguousarray(prediction.evidence[:, :, g])
        np.testing.assert_array_equal(got, np.clip(cv2.resize(cam, (shape[1], shape[0]),
                                                              interpolation=cv2.INTER_CUBIC), 0.0, 1.0))
        # … and so, to within the resize's gain, the independently computed map upsampled.
        independent = np.clip(cv2.resize(expected[:, :, g].astype(np.float32), (shape[1], shape[0]),
                                         interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
        np.testing.assert_allclose(got, independent, rtol=0, atol=2 * TOLERANCE)
        assert got.min() >= 0.0 and got.max() <= 1.0


def test_evidence_map_defaults(case):
    prediction, expected, _, _ = case
    np.testing.assert_array_equal(prediction.evidence_map(), prediction.evidence[:, :, prediction.grade])
    np.testing.assert_allclose(prediction.evidence_map(3), expected[:, :, 3], rtol=0, atol=TOLERANCE)
    with pytest.raises(ValueError):
        prediction.evidence_map(NUM_GRADES)
