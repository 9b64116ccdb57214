"""The one preprocessing function: equalisation, resize, scale, and its invariances."""

import cv2
import numpy as np

from kneeoa_desktop.core.knees.preprocess import equalize_histogram, preprocess


def test_equalization_matches_opencv_for_8_bit(knee_pixels):
    ours = equalize_histogram(knee_pixels).astype(int)
    theirs = cv2.equalizeHist(knee_pixels).astype(int)
    assert np.abs(ours - theirs).max() <= 1  # OpenCV rounds in float32, we in float64


def test_equalization_of_a_view_equals_that_of_a_copy(knee_pixels):
    """Regions are cut from films as views (strided, flipped); the 8-bit table look-up must
    map them exactly as it maps a contiguous copy, as the 16-bit path does."""
    for view in (knee_pixels[10:150, 20:200], np.fliplr(knee_pixels), knee_pixels[::2, ::3], knee_pixels.T):
        np.testing.assert_array_equal(equalize_histogram(view), equalize_histogram(view.copy()))
        np.testing.assert_array_equal(equalize_histogram(view),
                                      equalize_histogram(view.astype(np.uint16) * 257))


def test_equalization_is_invariant_to_monotonic_rescaling(knee_pixels):
    stretched = (knee_pixels.astype(np.uint16) * 200 + 300).astype(np.uint16)
    np.testing.assert_array_equal(equalize_histogram(stretched), equalize_histogram(knee_pixels))


def test_flat_image_stays_flat():
    assert equalize_histogram(np.full((80, 80), 77, np.uint8)).max() == 0


def test_output_shape_range_and_dtype():
    big = np.tile(np.linspace(0, 4095, 700), (900, 1)).astype(np.uint16) ** 2 // 4096
    x = preprocess(big, (224, 224))
    assert x.shape == (224, 224, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert x.max() > 0.9 and x.min() < 0.1  # equalised: spans (nearly) the whole range


def test_non_square_input_size(knee_pixels):
    assert preprocess(knee_pixels, (128, 160)).shape == (128, 160, 1)
