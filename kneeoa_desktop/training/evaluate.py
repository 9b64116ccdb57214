"""Evaluate a model on a folder with ``0/ … 4/`` subfolders: the figures and the plot.

Images are graded through ``core.pipeline``, as ``kneeoa predict`` grades them, each image as
one whole region (a dataset of single-joint crops), in batches.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..core.errors import ImageLoadError
from ..core.film.imaging import load_image
from ..core.pipeline import GradingPipeline
from ..core.verdict.grades import KL_LABELS, KL_NAMES, NUM_GRADES
from ..core.verdict.metrics import bootstrap_intervals, classification_report, ece_if_calibrated
from .dataset import list_split

#: A batch is graded once it holds this many pixels, even with fewer images (full-size films).
BATCH_PIXELS = 1 << 25


def evaluate_folder(data_dir: str | Path, predictor, batch_size: int = 32, on_error=None,
                    on_progress=None, details: dict | None = None) -> dict:
    """Grade every image under ``data_dir/0 … 4`` and return the classification report.

    Under a site profile (``predictor.site_profile``) the report is the profile's (its grades and
    recalibrated probabilities) and ``report["before_profile"]`` the model's as it is, from the
    same one grading. ``details``, when given, receives the per-film data the HTML report needs:
    paths, grades, probabilities and predicted grades (and ``raw``, the model's own probabilities).
    """
    items = list_split(data_dir)
    if not items:
        raise FileNotFoundError(f"No images found in {data_dir}/0 … {NUM_GRADES - 1}.")
    profile = getattr(predictor, "site_profile", None)
    pipeline = GradingPipeline(predictor)
    grades, probabilities, batch, batch_grades, failures, paths, batch_paths = [], [], [], [], 0, [], []

    def flush():
        if batch:
            results = pipeline.grade_whole(batch)
            probabilities.append(np.stack([r.knees[0].prediction.probabilities for r in results]))
            grades.extend(batch_grades)
            paths.extend(batch_paths)
            for pending in (batch, batch_grades, batch_paths):
                pending.clear()

    predictor.site_profile = None  # graded once as the model is; the profile is applied below
    try:
        for i, (path, grade) in enumerate(items):
            try:
                batch.append(load_image(path))
                batch_grades.append(grade)
                batch_paths.append(str(path))
            except ImageLoadError as exc:
                failures += 1
                if on_error:
                    on_error(path, exc)
            if len(batch) == batch_size or sum(image.pixels.size for image in batch) >= BATCH_PIXELS:
                flush()
            if on_progress:
                on_progress(i + 1, len(items))
        flush()
    finally:
        predictor.site_profile = profile
    if not grades:
        raise FileNotFoundError(f"None of the images in {data_dir} could be read.")
    grades, raw = np.array(grades), np.concatenate(probabilities)
    shown, y_pred = profile.apply(raw) if profile is not None else (raw, None)
    report = report_for(grades, shown, y_pred)
    if profile is not None:
        report["site_profile"] = profile.describe()
        report["before_profile"] = report_for(grades, raw)
    report["failed_files"] = failures
    report["model"] = predictor.manifest.tag
    report["data_dir"] = str(data_dir)
    if details is not None:
        details.update(paths=paths, grades=grades, probabilities=shown, raw=raw,
                       predicted=shown.argmax(1) if y_pred is None else y_pred)
    return report


def report_for(grades: np.ndarray, probabilities: np.ndarray, y_pred: np.ndarray | None = None) -> dict:
    """The figures of one set of gradings (grades: the most probable, unless ``y_pred`` gives them)."""
    report = classification_report(grades, probabilities, y_pred)
    report["intervals"] = bootstrap_intervals(grades, probabilities, y_pred=y_pred)
    report["ece_if_calibrated"] = ece_if_calibrated(probabilities)
    report["three_class"] = three_class_report(grades, probabilities)
    return report


def format_report(report: dict) -> str:
    """The report as aligned text, as `kneeoa evaluate` prints it."""
    lines = [
        f"model     {report['model']}" + (f", {report['site_profile']}" if report.get("site_profile") else ""),
        f"images    {report['n']}" + (f" ({report['failed_files']} unreadable, skipped)"
                                      if report.get("failed_files") else ""),
        f"accuracy  {report['accuracy']:.4f}{_ci(report, 'accuracy')}",
        f"QW kappa  {report['quadratic_weighted_kappa']:.4f}{_ci(report, 'quadratic_weighted_kappa')}",
        f"MAE       {report['mae']:.4f}{_ci(report, 'mae')}",
        f"ECE       {_fmt(report.get('ece'))}{_ci(report, 'ece')}   (expected calibration error, 15 bins)",
        *_calibrated_floor(report),
        f"OA AUC    {_fmt(report['oa_auc'])}   (KL ≥ 2 vs KL < 2)",
        f"3-class   {report['three_class']['accuracy']:.4f}   (KL0 vs KL2 vs KL3, "
        f"{report['three_class']['per_grade']} of each)",
        "",
        "grade          support  precision  recall",
    ]
    for row in report["per_grade"]:
        g = row["grade"]
        lines.append(f"{KL_LABELS[g]} {KL_NAMES[g]:<9} {row['support']:>8}  {_fmt(row['precision']):>9}  "
                     f"{_fmt(row['recall']):>6}")
    lines += ["", "confusion matrix (rows: true grade, columns: predicted)",
              "       " + "".join(f"{label:>6}" for label in KL_LABELS)]
    for g, row in enumerate(report["confusion_matrix"]):
        lines.append(f"{KL_LABELS[g]:>6} " + "".join(f"{v:>6}" for v in row))
    return "\n".join(lines)


def _calibrated_floor(report: dict) -> list[str]:
    floor = report.get("ece_if_calibrated")
    if not floor:
        return []
    lo, hi = floor["interval"]
    return [f"          a perfectly calibrated model would show {floor['mean']:.4f} [{lo:.4f}, {hi:.4f}] "
            f"on {floor['n']} images (chance alone)"]


def _ci(report: dict, key: str) -> str:
    interval = report.get("intervals", {}).get(key)
    return f"   [{interval[0]:.4f}, {interval[1]:.4f}] 95 % bootstrap" if interval else ""


def _fmt(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def confusion_matrix_image(report: dict, title: str | None = None) -> np.ndarray:
    """Draw the confusion matrix (counts, shaded by row-normalised rate) as an RGB array."""
    from PIL import Image, ImageDraw

    from ..core.outputs.fonts import font

    cm = np.array(report["confusion_matrix"], np.float64)
    rates = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    cell, left, top = 96, 150, 110
    title = title or (f"{report['model']}  accuracy {report['accuracy']:.3f}  "
                      f"kappa {report['quadratic_weighted_kappa']:.3f}  MAE {report['mae']:.3f}")
    title_width = ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(title, font=font(18, True))
    width = max(left + cell * NUM_GRADES + 30, int(title_width) + 40)
    height = top + cell * NUM_GRADES + 80
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.text((20, 15), title, font=font(18, True), fill=(0, 0, 0))
    draw.text((left, top - 40), "predicted grade", font=font(16), fill=(60, 60, 60))
    draw.text((15, top + cell * NUM_GRADES + 25), "rows: true grade; shade: share of the row",
              font=font(14), fill=(90, 90, 90))
    for g in range(NUM_GRADES):
        draw.text((left + g * cell + cell // 2 - 14, top - 20), KL_LABELS[g], font=font(16), fill=(0, 0, 0))
        draw.text((20, top + g * cell + cell // 2 - 10), f"{KL_LABELS[g]} {KL_NAMES[g]}", font=font(15),
                  fill=(0, 0, 0))
        for p in range(NUM_GRADES):
            shade = rates[g, p]
            colour = tuple(int(255 - shade * (255 - c)) for c in (40, 70, 160))
            x0, y0 = left + p * cell, top + g * cell
            draw.rectangle([x0, y0, x0 + cell - 2, y0 + cell - 2], fill=colour)
            ink = (255, 255, 255) if shade > 0.5 else (0, 0, 0)
            draw.text((x0 + 12, y0 + 28), f"{int(cm[g, p])}", font=font(20, True), fill=ink)
            draw.text((x0 + 12, y0 + 56), f"{100 * shade:.0f} %", font=font(14), fill=ink)
    return np.asarray(image)


#: The original student project's task: KL0 vs KL2 vs KL3, on a class-balanced subset.
THREE_CLASS_GRADES = (0, 2, 3)


def three_class_report(grades: np.ndarray, probabilities: np.ndarray, seed: int = 0) -> dict:
    """Accuracy on a class-balanced subset of KL0, KL2 and KL3, argmax over those three grades.

    Each grade keeps as many images as the rarest of the three has (drawn with a fixed seed).
    """
    grades = np.asarray(grades)
    probabilities = np.asarray(probabilities)
    rng = np.random.default_rng(seed)
    per_class = min(int((grades == g).sum()) for g in THREE_CLASS_GRADES)
    if per_class == 0:
        return {"grades": list(THREE_CLASS_GRADES), "per_grade": 0, "accuracy": float("nan")}
    keep = np.concatenate([rng.choice(np.flatnonzero(grades == g), per_class, replace=False)
                           for g in THREE_CLASS_GRADES])
    chosen = np.array(THREE_CLASS_GRADES)[probabilities[keep][:, list(THREE_CLASS_GRADES)].argmax(1)]
    return {"grades": list(THREE_CLASS_GRADES), "per_grade": per_class,
            "accuracy": float((chosen == grades[keep]).mean())}
