"""The annotated PNG for the record: radiograph + evidence overlay + a legible verdict panel.

Text is drawn with Pillow and the bundled DejaVu Sans, so any file name (Cyrillic included)
and the em dash of the disclaimer render correctly. The file is written atomically (``atomic``:
a temporary file in the target folder, flushed, then renamed over the target). The source
radiograph is never overwritten, and DICOM patient identifiers appear only when asked for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

# The atomic writers live in ``atomic``; re-exported here for the callers that know them by this module.
from ..atomic import write_bytes_atomic, write_text_atomic  # noqa: F401
from ..errors import ExportError
from ..messages import QT_TRANSLATE_NOOP
from ..verdict.grades import DISCLAIMER, KL_LABELS, KL_NAMES, grade_title
from ..verdict.prediction import Prediction
from .fonts import font
from .overlay import DEFAULT_BRIGHTNESS, EvidenceOverlay

_PANEL_BG = (250, 250, 248)
_TEXT = (20, 20, 20)
_MUTED = (90, 90, 90)
_ACCENT = (196, 38, 140)  # the overlay's magenta
_WARN = (170, 20, 20)


@dataclass
class PanelEntry:
    """One knee's verdict as the panel shows it (plain data; see ``entries_for``)."""

    prediction: Prediction
    evidence_grade: int
    title: str | None = None  # "Right knee (R)"; None for a single unlabelled region
    in_scope: bool = True
    scope_note: str | None = None
    box: tuple[int, int, int, int] | None = None  # outline on the film, source pixels
    box_label: str = ""


def render_annotated(gray_u8: np.ndarray, prediction: Prediction, *, evidence_grade: int | None = None,
                     brightness: float = DEFAULT_BRIGHTNESS, source_name: str | None = None,
                     patient: dict | None = None, when: datetime | None = None,
                     overlay: EvidenceOverlay | None = None) -> np.ndarray:
    """Return the annotated image of one graded region as an RGB uint8 array (not yet written).

    ``patient`` (DICOM identifiers) is printed only when the caller passes it explicitly.
    """
    grade = prediction.grade if evidence_grade is None else int(evidence_grade)
    if overlay is None:
        overlay = EvidenceOverlay(gray_u8, prediction.evidence[:, :, grade], prediction.roi)
    entry = PanelEntry(prediction, grade, box=prediction.roi)
    return render_entries(overlay, [entry], brightness=brightness,
                          source_name=source_name if source_name is not None else prediction.source_name,
                          patient=patient, when=when)


def entries_for(knees, evidence_grades=None) -> list[PanelEntry]:
    """Panel entries for the knees of a ``pipeline.GradingResult``, in its order."""
    grades = list(evidence_grades or [None] * len(knees))
    labelled = len(knees) > 1 or any(k.side for k in knees)
    entries = []
    for knee, grade in zip(knees, grades):
        p = knee.prediction
        title = None
        if labelled:
            title = {"right": "Right knee (R)", "left": "Left knee (L)"}.get(knee.side or "", "Knee, side unknown")
        entries.append(PanelEntry(p, p.grade if grade is None else int(grade), title, knee.in_scope,
                                  knee.scope_note, None if knee.prediction.roi is None else knee.visible,
                                  knee.side_letter))
    return entries


def render_result(result, *, evidence_grades=None, brightness: float = DEFAULT_BRIGHTNESS,
                  source_name: str | None = None, patient: dict | None = None,
                  when: datetime | None = None, overlay: EvidenceOverlay | None = None) -> np.ndarray:
    """The annotated image of a whole ``pipeline.GradingResult``: every knee outlined and graded."""
    overlay = overlay or result.overlay(evidence_grades)
    return render_entries(overlay, entries_for(result.knees, evidence_grades), brightness=brightness,
                          source_name=source_name if source_name is not None else result.image.source_name,
                          patient=patient, when=when)


def render_entries(overlay: EvidenceOverlay, entries: list[PanelEntry], *, brightness: float,
                   source_name: str, patient: dict | None, when: datetime | None) -> np.ndarray:
    from PIL import Image, ImageDraw

    picture = cv2.cvtColor(overlay.compose(brightness), cv2.COLOR_BGR2RGB)
    h, w = picture.shape[:2]
    # Scale the picture to a readable height; text sizes follow that height.
    target_h = int(np.clip(h, 640, 1600))
    scale = target_h / h
    target_w = max(1, round(w * scale))
    picture = cv2.resize(picture, (target_w, target_h),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    # One text line; more knees need more lines in the same height.
    unit = target_h / (36.0 + 13.0 * (len(entries) - 1))
    panel_w = int(target_h / 36.0 * 20)
    canvas = Image.new("RGB", (target_w + panel_w, target_h), _PANEL_BG)
    canvas.paste(Image.fromarray(picture), (0, 0))
    draw = ImageDraw.Draw(canvas)
    small, body, big = font(int(unit * 0.62)), font(int(unit * 0.75)), font(int(unit * 1.5), True)
    bold = font(int(unit * 0.75), True)
    for entry in entries:
        if entry.box:
            x, y, rw, rh = (v * scale for v in entry.box)
            colour = (255, 215, 0) if entry.in_scope else (230, 60, 60)
            draw.rectangle([x, y, x + rw, y + rh], outline=colour, width=max(2, int(unit / 8)))
            if entry.box_label:
                draw.text((x + unit * 0.3, y + unit * 0.2), entry.box_label, font=big, fill=colour)
    left = target_w + int(unit * 0.8)
    right = target_w + panel_w - int(unit * 0.8)
    y = unit * 0.8

    def line(text, font=body, fill=_TEXT, gap=1.25):
        nonlocal y
        draw.text((left, y), text, font=font, fill=fill)
        y += unit * gap

    line("KneeOA — Kellgren–Lawrence grade", bold)
    for entry in entries:
        prediction = entry.prediction
        if entry.title:
            y += unit * 0.3
            line(entry.title, bold, _TEXT, 1.1)
        if entry.in_scope:
            line("Predicted grade", small, _MUTED, 0.9)
            line(grade_title(prediction.grade), big, _ACCENT, 2.0)
            for text in _wrap(entry.scope_note or "", small, right - left, draw):  # "unusual image"
                line(text, small, _WARN, 0.9)
            for text in _wrap(prediction.site, small, right - left, draw):  # "calibrated for SITE (…)"
                line(text, small, _MUTED, 0.9)
        else:  # described, never shown as a confident grade
            line("Not graded: outside what the model can grade", bold, _WARN, 1.1)
            for text in _wrap(entry.scope_note or "", small, right - left, draw):
                line(text, small, _WARN, 0.9)
            y += unit * 0.2
        bar_left = left + int(unit * 6.2)
        fill = _ACCENT if entry.in_scope else (185, 185, 185)
        for g, p in enumerate(prediction.probabilities):
            label = f"{KL_LABELS[g]} {KL_NAMES[g]}"
            face = bold if g == prediction.grade and entry.in_scope else body
            ink = _TEXT if entry.in_scope else _MUTED
            draw.text((left, y), label, font=face, fill=ink)
            bar_right = right - int(unit * 3.2)
            top, bottom = y + unit * 0.2, y + unit * 0.8
            draw.rectangle([bar_left, top, bar_right, bottom], outline=(200, 200, 200), fill=(235, 235, 235))
            draw.rectangle([bar_left, top, bar_left + (bar_right - bar_left) * float(p), bottom], fill=fill)
            draw.text((bar_right + unit * 0.3, y), f"{100 * p:5.1f} %", font=face, fill=ink)
            y += unit * 1.15
        y += unit * 0.3
        if entry.in_scope:
            line(f"OA (KL ≥ 2) probability: {100 * prediction.oa_probability:.1f} %", bold)
            if prediction.low_confidence:
                line(f"Low confidence: top probability {100 * prediction.confidence:.0f} %", bold, _WARN)
            line(f"Evidence map: {grade_title(entry.evidence_grade)}, brightness {brightness:.1f}",
                 small, _MUTED, 1.0)
        if entry.box:
            x, y0, rw, rh = entry.box
            line(f"Region graded: {rw}×{rh} px at ({x}, {y0})", small, _MUTED, 1.0)
    y += unit * 0.4
    when = when or datetime.now()
    model = entries[0].prediction.model if entries else ""
    for label, value in (("Source", source_name), ("Model", model),
                         ("Date", when.strftime("%Y-%m-%d %H:%M"))):
        line(f"{label}: {_ellipsize(value, small, right - left - draw.textlength(label + ': ', font=small), draw)}",
             small, _TEXT, 1.0)
    if patient:
        for key, value in patient.items():
            line(f"{key}: {value}", small, _TEXT, 1.0)
    y = target_h - unit * 1.6
    warn = font(int(unit * 0.75), True)
    size = int(unit * 0.75)
    while size > 8 and draw.textlength(DISCLAIMER, font=warn) > right - left:
        size -= 1
        warn = font(size, True)
    line(DISCLAIMER, warn, _WARN)
    return np.asarray(canvas)


def _wrap(text: str, font, width: float, draw) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and draw.textlength(trial, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    return lines + ([current] if current else [])


def _ellipsize(text: str, font, width: float, draw) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


_PNG_OPTIONS = [cv2.IMWRITE_PNG_COMPRESSION, 1]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):  # OpenCV ≥ 4.10; older ones keep libpng's adaptive filters
    _PNG_OPTIONS += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]


def write_png_atomic(rgb: np.ndarray, target: str | os.PathLike, *,
                     protect: tuple[str | os.PathLike, ...] = ()) -> Path:
    """Encode ``rgb`` as PNG and write it to ``target`` atomically; never onto a protected file."""
    target = Path(target)
    if target.suffix.lower() != ".png":
        target = target.with_name(target.name + ".png")
    # Compression level 1 with the one "up" filter: about as small as the default (level 3,
    # adaptive filters) and about half the time of level 1 with adaptive filters (measured on our
    # 995×640 annotated films, where encoding was the largest cost of `predict --overlay-dir`).
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), _PNG_OPTIONS)
    if not ok:
        raise ExportError(QT_TRANSLATE_NOOP("CoreMessages", "The annotated image could not be encoded as PNG."))
    return write_bytes_atomic(encoded.tobytes(), target, protect=protect)


def export_result(result, target: str | os.PathLike, *, source_path: str | os.PathLike | None = None,
                  **render_options) -> Path:
    """Render a whole ``GradingResult`` (every knee) and write it; returns the path written."""
    rgb = render_result(result, **render_options)
    protect = (source_path,) if source_path is not None else ()
    return write_png_atomic(rgb, target, protect=protect)


def export_annotated(gray_u8: np.ndarray, prediction: Prediction, target: str | os.PathLike, *,
                     source_path: str | os.PathLike | None = None, **render_options) -> Path:
    """Render and write the annotated PNG; returns the path written."""
    rgb = render_annotated(gray_u8, prediction, **render_options)
    protect = (source_path,) if source_path is not None else ()
    return write_png_atomic(rgb, target, protect=protect)


def default_export_name(source_name: str) -> str:
    """'knee.dcm' → 'knee_kneeoa.png'."""
    stem = Path(source_name).stem or "radiograph"
    return f"{stem}_kneeoa.png"
