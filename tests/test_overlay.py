"""The evidence overlay: brightness semantics, ROI placement, and no network involved."""

import numpy as np

from kneeoa_desktop.core.outputs.overlay import EvidenceOverlay, compose_overlay


def _inputs():
    gray = np.tile(np.linspace(0, 255, 300, dtype=np.uint8), (200, 1))
    evidence = np.zeros((14, 14), np.float32)
    evidence[5:9, 5:9] = 1.0
    return gray, evidence


def test_brightness_zero_is_the_plain_radiograph():
    gray, evidence = _inputs()
    out = compose_overlay(gray, evidence, 0.0)
    assert out.shape == (200, 300, 3) and out.dtype == np.uint8
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], gray)


def test_more_brightness_means_more_colour_where_the_evidence_is():
    gray, evidence = _inputs()
    overlay = EvidenceOverlay(gray, evidence)
    base = overlay.compose(0).astype(int)
    changes = [np.abs(overlay.compose(b).astype(int) - base).sum() for b in (0.5, 1.0, 2.0, 4.0)]
    assert all(a < b for a, b in zip(changes, changes[1:]))
    # Outside the evidence the radiograph is untouched.
    diff = np.abs(overlay.compose(4.0).astype(int) - base).sum(axis=2)
    assert diff[:20, :20].max() == 0 and diff[90:110, 140:160].min() > 0


def test_roi_evidence_lands_inside_the_roi():
    gray, _ = _inputs()
    evidence = np.ones((14, 14), np.float32)
    out = compose_overlay(gray, evidence, 1.0, roi=(100, 50, 80, 80)).astype(int)
    plain = compose_overlay(gray, evidence, 0.0).astype(int)
    diff = np.abs(out - plain).sum(axis=2)
    assert diff[60:120, 110:170].min() > 0
    assert diff[:50].max() == 0 and diff[:, :100].max() == 0


def _blended_everywhere(gray, maps, brightness):
    """The overlay computed over the whole film, pixel by pixel (what ``compose`` restricts to
    the box around the regions)."""
    import cv2

    from kneeoa_desktop.core.outputs import overlay as ov

    h, w = gray.shape
    level = np.zeros((h, w), np.uint8)
    for evidence, (x, y, rw, rh) in maps:
        resized = cv2.resize(evidence, (rw, rh), interpolation=cv2.INTER_CUBIC)
        np.maximum(level[y:y + rh, x:x + rw], np.clip(resized * 255.0 + 0.5, 0, 255).astype(np.uint8),
                   out=level[y:y + rh, x:x + rw])
    ramp = np.clip((np.linspace(0.0, 1.0, 256) - ov._FLOOR) / (1.0 - ov._FLOOR), 0.0, 1.0)
    alpha = np.clip(ramp * (ov._BASE_OPACITY * brightness), 0.0, ov._MAX_OPACITY).astype(np.float32)[level]
    colour = cv2.applyColorMap(level, ov._COLOURS)
    return cv2.blendLinear(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), colour, 1.0 - alpha, alpha)


def test_two_knees_on_a_large_film_blend_as_over_the_whole_film():
    rng = np.random.default_rng(4)
    gray = rng.integers(0, 256, (700, 900)).astype(np.uint8)
    maps = [(rng.random((14, 14)).astype(np.float32), (0, 100, 250, 250)),
            (rng.random((14, 14)).astype(np.float32), (600, 120, 300, 300))]
    overlay = EvidenceOverlay.for_regions(gray, maps)
    for brightness in (0.5, 1.0, 4.0):
        np.testing.assert_array_equal(overlay.compose(brightness), _blended_everywhere(gray, maps, brightness))
    outside = overlay.compose(4.0)[:, 260:590]  # between the knees: the film untouched
    np.testing.assert_array_equal(outside, np.repeat(gray[:, 260:590, None], 3, axis=2))
