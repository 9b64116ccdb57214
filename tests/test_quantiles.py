"""Percentiles from the histogram: the same numbers as np.percentile, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest

from kneeoa_desktop.core.film.quantiles import percentiles


@pytest.mark.parametrize("dtype,top", [(np.uint8, 2), (np.uint8, 256), (np.uint16, 4096), (np.uint16, 65536)])
def test_equal_to_numpy_percentile(dtype, top):
    rng = np.random.default_rng(top)
    for n in (1, 2, 3, 17, 1000, 40_000):
        pixels = rng.integers(0, top, n).astype(dtype)
        q = [0.0, 1.0, 5.0, 50.0, 99.0, 99.9, 100.0, *rng.uniform(0, 100, 5)]
        np.testing.assert_array_equal(percentiles(pixels, q), np.percentile(pixels, q))


def test_two_dimensional_and_scalar_q():
    img = np.random.default_rng(0).integers(0, 256, (57, 91)).astype(np.uint8)
    assert percentiles(img, 37.5) == np.percentile(img, 37.5)
    assert np.ndim(percentiles(img, 37.5)) == 0
    assert percentiles(img, (5, 99)).shape == (2,)


def test_other_types_fall_back_to_numpy():
    x = np.random.default_rng(1).normal(size=(30, 30)).astype(np.float32)
    np.testing.assert_array_equal(percentiles(x, [1.0, 99.9]), np.percentile(x, [1.0, 99.9]))
    with pytest.raises(ValueError):
        percentiles(np.zeros(5, np.uint8), 101)
