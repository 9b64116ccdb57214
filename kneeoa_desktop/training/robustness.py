"""Does the grade hold when a film is merely re-processed? Agreement under site-like changes on val.

Each val image is graded as it is and after one change at a time (sharpened, smoothed, re-exposed,
noisy, zoomed out, stretched, rotated: ``augment.SITE_SHIFTS``), through the same preprocessing
and predictor as the app. Reported per change: the share of images whose grade is unchanged,
the share within one grade, and the kappa against the true grades.
"""

from __future__ import annotations

import numpy as np

from ..core.knees.preprocess import preprocess
from ..core.verdict.metrics import quadratic_weighted_kappa
from .augment import SITE_SHIFTS, site_shift


def site_agreement(raws: np.ndarray, grades: np.ndarray, predictor, batch_size: int = 64) -> dict:
    """{change: {agreement, within_one, kappa}} plus "original": {kappa} for ``raws`` (uint8 N×H×W)."""
    size = predictor.input_size

    def grade_all(images) -> np.ndarray:
        out = []
        for i in range(0, len(images), batch_size):
            batch = np.stack([preprocess(x, size) for x in images[i:i + batch_size]])
            out.append(predictor.predict_array(batch)[0].argmax(1))
        return np.concatenate(out)

    base = grade_all(raws)
    result = {"original": {"kappa": quadratic_weighted_kappa(grades, base)}}
    for k, name in enumerate(SITE_SHIFTS):
        shifted = grade_all([site_shift(x, name, seed=1000 * k + i) for i, x in enumerate(raws)])
        result[name] = {"agreement": float((shifted == base).mean()),
                        "within_one": float((np.abs(shifted - base) <= 1).mean()),
                        "kappa": quadratic_weighted_kappa(grades, shifted)}
    return result


def validation_sets(raws: np.ndarray, seed: int = 1234, input_size: tuple[int, int] = (224, 224)) -> dict:
    """The val crops as the candidate comparisons grade them (preprocessed, (N, H, W, 1) each):
    as they are; the training's site proxy (``augment.site_proxy``); the simulated sites of issue
    24 framed whole (``sites.site_proxy``); cut to other crop shapes (``augment.framing_proxy``)."""
    from .augment import framing_proxy, site_proxy
    from .sites import site_proxy as simulated_sites

    return {"val": np.stack([preprocess(x, input_size) for x in raws]),
            "site proxy": site_proxy(raws, seed=seed),
            "simulated sites": simulated_sites(raws, seed=seed),
            "other shapes": framing_proxy(raws)}


def format_agreement(result: dict) -> str:
    lines = [f"{'change':<12} {'same grade':>10} {'within 1':>9} {'kappa':>7}",
             f"{'(none)':<12} {'':>10} {'':>9} {result['original']['kappa']:>7.3f}"]
    for name, row in result.items():
        if name != "original":
            lines.append(f"{name:<12} {row['agreement']:>10.3f} {row['within_one']:>9.3f} {row['kappa']:>7.3f}")
    return "\n".join(lines)
