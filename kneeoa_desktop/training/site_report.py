"""The site report: `kneeoa evaluate`'s figures as one self-contained HTML file a department can file.

Everything is inside the file (inline SVG charts, thumbnails as data: URIs, no scripts, no
external links), so it opens in any browser, offline, and can be archived as the acceptance
test of the grader at that site. It holds the model and data, kappa / accuracy / MAE / ECE with
95 % bootstrap intervals, per-grade recall, the confusion matrix, a reliability diagram, the OA
(KL ≥ 2) ROC curve, and a gallery of the worst disagreements with thumbnails. With a site profile
it shows the model as it is and as calibrated for the site side by side. No Qt here.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from ..core.atomic import write_text_atomic
from ..core.verdict.grades import DISCLAIMER, KL_LABELS, KL_NAMES, NUM_GRADES, OA_THRESHOLD

GALLERY = 12
_E = html.escape


def _interval(report: dict, key: str) -> str:
    iv = report.get("intervals", {}).get(key)
    return f" <span class=ci>[{iv[0]:.3f}, {iv[1]:.3f}]</span>" if iv else ""


def _figures_table(columns: list[tuple[str, dict]]) -> str:
    rows = [("accuracy", "accuracy"), ("quadratic_weighted_kappa", "quadratic-weighted kappa"),
            ("mae", "mean absolute error (grades)"), ("ece", "calibration error (ECE, 15 bins)"),
            ("oa_auc", "OA (KL ≥ 2) AUC")]
    head = "".join(f"<th>{_E(name)}</th>" for name, _ in columns)
    body = "".join(
        f"<tr><td>{_E(label)}</td>" + "".join(
            f"<td>{r[key]:.3f}{_interval(r, key)}</td>" if isinstance(r.get(key), float) and np.isfinite(r[key])
            else "<td>–</td>" for _, r in columns) + "</tr>"
        for key, label in rows)
    return f"<table class=figures><tr><th></th>{head}</tr>{body}</table>"


def _confusion(report: dict) -> str:
    cm = np.asarray(report["confusion_matrix"])
    top = max(1, int(cm.max()))
    head = "".join(f"<th>{_E(KL_LABELS[g])}</th>" for g in range(NUM_GRADES))
    rows = []
    for t in range(NUM_GRADES):
        cells = "".join(
            f"<td style='background: rgba(196,38,140,{0.08 + 0.8 * cm[t, p] / top:.2f})'>{cm[t, p]}</td>"
            for p in range(NUM_GRADES))
        rows.append(f"<tr><th>{_E(KL_LABELS[t])}</th>{cells}</tr>")
    return (f"<table class=matrix><tr><th>true ↓ / predicted →</th>{head}</tr>{''.join(rows)}</table>")


def _recall(report: dict) -> str:
    rows = "".join(
        f"<tr><td>{_E(KL_LABELS[r['grade']])} {_E(KL_NAMES[r['grade']])}</td><td>{r['support']}</td>"
        f"<td>{_num(r['precision'])}</td><td>{_num(r['recall'])}</td></tr>" for r in report["per_grade"])
    return f"<table><tr><th>grade</th><th>films</th><th>precision</th><th>recall</th></tr>{rows}</table>"


def _num(value) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _svg_axes(title_x: str, title_y: str) -> str:
    ticks = "".join(f"<text x='{40 + 2.4 * v:.0f}' y='276' font-size='10' text-anchor='middle'>{v / 100:.1f}</text>"
                    f"<text x='32' y='{254 - 2.4 * v + 3:.0f}' font-size='10' text-anchor='end'>{v / 100:.1f}</text>"
                    for v in range(0, 101, 25))
    return (f"<rect x='40' y='14' width='240' height='240' fill='#fafbfc' stroke='#ccd'/>{ticks}"
            f"<line x1='40' y1='254' x2='280' y2='14' stroke='#bbb' stroke-dasharray='4 3'/>"
            f"<text x='160' y='294' font-size='11' text-anchor='middle'>{_E(title_x)}</text>"
            f"<text x='10' y='134' font-size='11' text-anchor='middle' transform='rotate(-90 10 134)'>{_E(title_y)}</text>")


def _point(x: float, y: float) -> str:
    return f"{40 + 240 * x:.1f},{254 - 240 * y:.1f}"


def reliability_svg(grades: np.ndarray, probs: np.ndarray, bins: int = 10) -> str:
    """Accuracy against confidence of the shown grade, per confidence bin (dot area = films)."""
    confidence = probs.max(1)
    correct = probs.argmax(1) == grades
    dots = []
    for b in range(bins):
        sel = (confidence >= b / bins) & ((confidence < (b + 1) / bins) if b < bins - 1 else (confidence <= 1))
        if sel.any():
            x, y = float(confidence[sel].mean()), float(correct[sel].mean())
            cx, cy = _point(x, y).split(",")
            r = 3 + 9 * np.sqrt(sel.sum() / len(grades))
            dots.append(f"<circle cx='{cx}' cy='{cy}' r='{r:.1f}' fill='#c4268c' fill-opacity='0.7'>"
                        f"<title>{sel.sum()} films: confidence {x:.2f}, accuracy {y:.2f}</title></circle>")
    return (f"<svg class=chart viewBox='0 0 290 300' width='220' height='228'>"
            f"{_svg_axes('confidence of the most probable grade', 'share correct')}{''.join(dots)}</svg>")


def roc_svg(grades: np.ndarray, probs: np.ndarray) -> str:
    """The OA (KL ≥ 2) ROC curve: sensitivity against 1 − specificity."""
    labels = grades >= OA_THRESHOLD
    scores = probs[:, OA_THRESHOLD:].sum(1)
    if labels.all() or not labels.any():
        return "<p>(no ROC curve: the films are all OA or all not OA)</p>"
    order = np.argsort(-scores, kind="stable")
    tp = np.concatenate([[0], np.cumsum(labels[order])]) / labels.sum()
    fp = np.concatenate([[0], np.cumsum(~labels[order])]) / (~labels).sum()
    path = " ".join(_point(x, y) for x, y in zip(fp, tp))
    return (f"<svg class=chart viewBox='0 0 290 300' width='220' height='228'>"
            f"{_svg_axes('1 − specificity', 'sensitivity')}"
            f"<polyline points='{path}' fill='none' stroke='#c4268c' stroke-width='2'/></svg>")


def _thumbnail(path: Path, side: int = 120) -> str:
    """A small PNG of the film as a data: URI ("" when it cannot be read now)."""
    from ..core.film.imaging import load_image

    try:
        pixels = load_image(path).display_u8()
    except Exception:  # the report must not fail on a film that went away or cannot be shown
        return ""
    scale = side / max(pixels.shape)
    small = cv2.resize(pixels, (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".png", small)
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


def _gallery(details: dict) -> str:
    grades, predicted = np.asarray(details["grades"]), np.asarray(details["predicted"])
    probs, paths = np.asarray(details["probabilities"]), details["paths"]
    miss = np.abs(predicted - grades)
    order = [i for i in np.lexsort((-probs.max(1), -miss)) if miss[i] > 0][:GALLERY]
    if not order:
        return "<p>No disagreements: every film got its readers' grade.</p>"
    cards = []
    for i in order:
        src = _thumbnail(Path(paths[i]))
        image = f"<img src='{src}' alt=''>" if src else "<div class=noimg>(film not readable now)</div>"
        bars = " ".join(f"{KL_LABELS[g]} {100 * probs[i, g]:.0f}%" for g in range(NUM_GRADES))
        cards.append(f"<figure>{image}<figcaption><b>{_E(Path(paths[i]).name)}</b><br>readers "
                     f"{_E(KL_LABELS[grades[i]])}, model {_E(KL_LABELS[predicted[i]])}<br>"
                     f"<small>{_E(bars)}</small></figcaption></figure>")
    return f"<div class=gallery>{''.join(cards)}</div>"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #1d2329; max-width: 1180px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #d9dde2; padding: 4px 9px; }
th { background: #f1f3f5; font-weight: 600; } .ci { color: #6b7480; font-size: 12px; }
.matrix td { text-align: center; min-width: 42px; } .charts { display: flex; gap: 16px; flex-wrap: wrap; }
.side { display: flex; gap: 24px; flex-wrap: wrap; } .side > div { width: 540px; } .meta { color: #4a5560; }
.gallery { display: flex; flex-wrap: wrap; gap: 14px; } figure { margin: 0; width: 170px; }
figure img { width: 120px; border: 1px solid #ccd; } figcaption { font-size: 12px; }
.warn { color: #a01414; font-weight: 600; } .noimg { width: 120px; height: 80px; color: #888; font-size: 11px; }
"""


def _section(title: str, report: dict, details: dict) -> str:
    grades, probs = np.asarray(details["grades"]), np.asarray(details["probabilities"])
    return (f"<div><h3>{_E(title)}</h3>{_confusion(report)}{_recall(report)}"
            f"<div class=charts><div><h4>Reliability</h4>{reliability_svg(grades, probs)}</div>"
            f"<div><h4>OA ROC (AUC {_num(report.get('oa_auc'))})</h4>{roc_svg(grades, probs)}</div></div></div>")


def write_html_report(report: dict, details: dict, target: str | Path, before: tuple[dict, dict] | None = None,
                      now: datetime | None = None) -> Path:
    """Write the report for ``report`` (``evaluate_folder``'s) and its per-film ``details`` ({paths,
    grades, probabilities, predicted}); ``before``, the same without the site profile."""
    now = now or datetime.now()
    site = report.get("site_profile")
    columns = ([("as it is", before[0]), (site, report)] if before else [("this model", report)])
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>KneeOA site report — {_E(Path(report['data_dir']).name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>KneeOA site report: {_E(Path(report['data_dir']).name)}</h1>",
        f"<p class=meta>Model {_E(report['model'])}{' — ' + _E(site) if site else ''}. {report['n']} films graded "
        f"({report.get('failed_files', 0)} unreadable, left out) from {_E(report['data_dir'])}, "
        f"{now:%Y-%m-%d %H:%M}. Each film is graded whole, as a single-knee crop. Intervals: 95 % bootstrap "
        "(the films resampled).</p>",
        "<h2>Agreement with the site's readers</h2>", _figures_table(columns),
        "<h2>Where the grades fall</h2>",
        "<div class=side>" + (_section("as it is", *before) if before else "")
        + _section(site or "this model", report, details) + "</div>",
        f"<h2>The {GALLERY} worst disagreements</h2>",
        "<p class=meta>Films whose grade is furthest from the readers', the most confident first.</p>",
        _gallery(details),
        f"<p class=warn>{_E(DISCLAIMER)}.</p></body></html>",
    ]
    return write_text_atomic("".join(parts), Path(target))
