"""The About box's text: program version, a summary of the model card, the disclaimer.

The model card is the manifest beside the weights of the model in use, bundled or downloaded
(read without TensorFlow), so the box works before the model has finished loading, and says so
plainly when the model is missing. It also says where the model came from and where the log
file is, the two things a support call starts with.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from .. import __version__
from ..core import logs
from ..core.errors import KneeOAError
from ..core.model import model_store
from ..core.model.manifest import load_manifest
from . import i18n
from .worker import ModelInfo

# Manifest metrics worth a clinician's glance, with how to print them.
_METRICS = (
    ("accuracy", QT_TRANSLATE_NOOP("About", "Accuracy"), "{:.3f}"),
    ("quadratic_weighted_kappa", QT_TRANSLATE_NOOP("About", "Quadratic-weighted κ"), "{:.3f}"),
    ("mae", QT_TRANSLATE_NOOP("About", "Mean absolute error (grades)"), "{:.2f}"),
    ("oa_auc", QT_TRANSLATE_NOOP("About", "OA (KL ≥ 2) AUC"), "{:.3f}"),
)


def _tr(text: str) -> str:
    return QCoreApplication.translate("About", text)


def about_html(model: ModelInfo | None = None, weights=None, site: str = "") -> str:
    """Rich text for the About box; ``model`` adds what only the loaded model knows, ``site`` the
    site calibration in use ("Calibrated for …", translated; "" for none).

    ``weights`` (a folder or manifest) overrides the model in use, for tests.
    """
    e = html.escape
    translate = QCoreApplication.translate
    parts = [
        f"<h3>KneeOA Desktop {e(__version__)}</h3>",
        "<p>" + e(translate("About", "Kellgren–Lawrence grading of knee radiographs, with evidence maps "
                                     "showing where the network looked.")) + "</p>",
    ]
    active = model_store.active_model()
    if model is not None and model.origin is not None:
        active = model.origin  # what is loaded, even if the pointer has changed since
    origin = (translate("About", "Model origin"), i18n.describe_origin(active))
    log_file = (translate("About", "Log file"), str(logs.log_file()))
    try:
        manifest = load_manifest(weights if weights is not None else active.directory)
    except KneeOAError as exc:
        rows = [(translate("About", "Model"), i18n.core_message(exc)), origin, log_file]
        parts.append(_table(rows))
    else:
        height, width = manifest.input_size
        rows = [
            (translate("About", "Model"), f"{manifest.name} {manifest.version}"),
            origin,
        ]
        if manifest.members:
            rows.append((translate("About", "Ensemble of"), "; ".join(
                f"{m.name} {m.version}" for m in manifest.members)))
        rows += [
            (translate("About", "Input"), translate("About", "{0}×{1} pixels, gray").format(width, height)),
            (translate("About", "Grades"), ", ".join(i18n.grade_title(g) for g in range(len(manifest.labels)))),
        ]
        rows.append((translate("About", "Site calibration"), site or translate("About", "none")))
        if model is not None:
            rows.append((translate("About", "Running on"), model.device))
            if model.evidence_method:
                rows.append((translate("About", "Evidence maps"), model.evidence_method))
        metrics = [(_tr(label), fmt.format(manifest.metrics[key])) for key, label, fmt in _METRICS
                   if isinstance(manifest.metrics.get(key), (int, float))]
        rows.extend(metrics or [(translate("About", "Validation"),
                                 translate("About", "no metrics recorded in the model card"))])
        data = manifest.training.get("data_dir") if isinstance(manifest.training, dict) else None
        if data:
            rows.append((translate("About", "Trained on"), str(data).rstrip("/").rsplit("/", 1)[-1]))
        rows.append(log_file)
        parts.append(_table(rows))
        if manifest.description:
            parts.append(f"<p>{e(manifest.description)}</p>")
    parts.append("<p><small>" + e(translate(
        "About", "Sample radiographs (Help ▸ Open a sample radiograph): kneeKL224 images from Chen P., "
                 "Knee Osteoarthritis Severity Grading Dataset, Mendeley Data 2018 (Osteoarthritis "
                 "Initiative radiographs), CC BY 4.0; a replaced-knee film from NirantK/knee-xrays, MIT "
                 "licence. Knee-joint detector weights: KneeLocalizer (Tiulpin et al., 2017), MIT licence. "
                 "The model's networks start from the ImageNet weights of EfficientNet-Lite0 and Lite2 "
                 "(Apache-2.0).")) + "</small></p>")
    parts.append(f"<p style='color:#a01414'><b>{e(i18n.disclaimer())}</b></p>")
    return "".join(parts)


def _table(rows) -> str:
    e = html.escape
    return "<table cellspacing='0' cellpadding='2'>" + "".join(
        f"<tr><td valign='top'><b>{e(k)}</b>&nbsp;&nbsp;</td><td>{e(str(v))}</td></tr>" for k, v in rows) + "</table>"
