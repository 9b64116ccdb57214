"""The DICOM objects the node sends back: a Secondary Capture of the annotated film and an SR.

Both belong to the original's patient and study (identifiers copied, never logged), each in a
new series of its own (a series has one modality: OT for the capture, SR for the report).
The Comprehensive SR holds, per knee: side, KL grade (or "not graded" with the scope note),
the five probabilities, P(OA), the region, the model's name and version and the
decision-support disclaimer. Concept names use DCM and SNOMED CT codes where one exists and
the private scheme ``99KNEEOA`` otherwise.
"""

from __future__ import annotations

import io
from datetime import datetime

import numpy as np

from .. import __version__
from ..core.verdict.grades import DISCLAIMER, KL_LABELS, KL_NAMES

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
MANUFACTURER = "KneeOA Desktop"
PRIVATE_SCHEME = "99KNEEOA"

# Patient and study attributes copied from the original so that the new series file beside it.
PATIENT_STUDY = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex",
                 "PatientAge", "StudyInstanceUID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber",
                 "ReferringPhysicianName", "StudyDescription")
TYPE_2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyID",
          "AccessionNumber", "ReferringPhysicianName")

SIDES = {"right": ("24028007", "Right"), "left": ("7771000", "Left")}


def _code(value: str, meaning: str, scheme: str = PRIVATE_SCHEME):
    from pydicom.dataset import Dataset

    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, scheme, meaning
    return code


def _header(original, sop_class: str, modality: str, series_number: int, description: str, now: datetime):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    for keyword in PATIENT_STUDY:
        if keyword in original:
            setattr(ds, keyword, original.data_element(keyword).value)
    for keyword in TYPE_2:
        if keyword not in ds:
            setattr(ds, keyword, "")
    if "StudyInstanceUID" not in ds:  # a file with no study: ours become a study of their own
        ds.StudyInstanceUID = generate_uid()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    ds.SeriesNumber = series_number
    ds.InstanceNumber = 1
    ds.SeriesDescription = description
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = "kneeoa serve"
    ds.SoftwareVersions = __version__
    ds.ContentDate = ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.ContentTime = ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: names, notes and "≥" survive
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds


def _reference(original):
    from pydicom.dataset import Dataset

    ref = Dataset()
    ref.ReferencedSOPClassUID = original.SOPClassUID
    ref.ReferencedSOPInstanceUID = original.SOPInstanceUID
    return ref


def secondary_capture(original, rgb: np.ndarray, model_tag: str, now: datetime | None = None):
    """The annotated image (RGB, 8 bit) as a Secondary Capture in a new series of the study."""
    now = now or datetime.now()
    ds = _header(original, SECONDARY_CAPTURE, "OT", 9101, f"KneeOA evidence map ({model_tag})", now)
    ds.ConversionType = "WSD"  # workstation
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.BurnedInAnnotation = "YES"
    ds.DerivationDescription = f"KL grading and evidence map by {model_tag}. {DISCLAIMER}."
    if "SOPInstanceUID" in original:
        ds.SourceImageSequence = [_reference(original)]
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    ds.Rows, ds.Columns = rgb.shape[:2]
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelRepresentation = 0
    ds.PixelData = rgb.tobytes()
    return ds


def _item(value_type: str, name, relationship: str = "CONTAINS"):
    from pydicom.dataset import Dataset

    item = Dataset()
    item.RelationshipType = relationship
    item.ValueType = value_type
    item.ConceptNameCodeSequence = [name]
    return item


def _text(name, text: str):
    item = _item("TEXT", name)
    item.TextValue = text
    return item


def _num(name, value: float, unit=("1", "no units")):
    from pydicom.dataset import Dataset

    item = _item("NUM", name)
    measured = Dataset()
    measured.NumericValue = f"{value:.6g}"[:16]
    measured.MeasurementUnitsCodeSequence = [_code(unit[0], unit[1], "UCUM")]
    item.MeasuredValueSequence = [measured]
    return item


def _knee_container(record: dict):
    side = record.get("knee")
    title = f"{side.capitalize()} knee" if side else "Knee"
    container = _item("CONTAINER", _code("KNEE", title))
    container.ContinuityOfContent = "SEPARATE"
    items = []
    if side in SIDES:
        laterality = _item("CODE", _code("272741003", "Laterality", "SCT"))
        laterality.ConceptCodeSequence = [_code(*SIDES[side], "SCT")]
        items.append(laterality)
    else:
        items.append(_text(_code("SIDE", "Side"), "not known"))
    grade = int(record["grade"])
    if record["in_scope"]:
        items.append(_num(_code("KLGRADE", "Kellgren-Lawrence grade"), grade, ("{grade}", "grade")))
        items.append(_text(_code("FINDING", "Finding"), f"{KL_LABELS[grade]} ({KL_NAMES[grade]})"))
    else:
        items.append(_text(_code("FINDING", "Finding"), f"Not graded: {record['scope_note']}"))
    for label, p in zip(KL_LABELS, record["probabilities"]):
        items.append(_num(_code(f"P{label}", f"Probability of {label}"), float(p)))
    items.append(_num(_code("POA", "Probability of osteoarthritis (KL >= 2)"), float(record["oa_probability"])))
    items.append(_text(_code("INSCOPE", "Within the model's scope"), "yes" if record["in_scope"] else "no"))
    if record.get("scope_note"):
        items.append(_text(_code("SCOPENOTE", "Scope note"), record["scope_note"]))
    x, y, w, h = record["region"]
    items.append(_text(_code("REGION", "Region in source pixels (x, y, width, height)"), f"{x}, {y}, {w}, {h}"))
    container.ContentSequence = items
    return container


def structured_report(original, records: list[dict], model_tag: str, now: datetime | None = None,
                      note: str | None = None):
    """A Comprehensive SR with one container per knee (or only ``note`` when nothing was graded)."""
    from pydicom.dataset import Dataset

    now = now or datetime.now()
    ds = _header(original, COMPREHENSIVE_SR, "SR", 9102, f"KneeOA KL grading ({model_tag})", now)
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [_code("KLREPORT", "Knee osteoarthritis grading (Kellgren-Lawrence)")]
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"  # decision support: no clinician has signed it
    ds.ReferencedPerformedProcedureStepSequence = []
    ds.PerformedProcedureCodeSequence = []
    name, _, version = model_tag.partition("@")
    content = [_text(_code("DISCLAIMER", "Disclaimer"), DISCLAIMER),
               _text(_code("111001", "Algorithm Name", "DCM"), name),
               _text(_code("111003", "Algorithm Version", "DCM"), version or "unknown")]
    if "SOPInstanceUID" in original and "SOPClassUID" in original:
        image = _item("IMAGE", _code("121112", "Source of Measurement", "DCM"))
        image.ReferencedSOPSequence = [_reference(original)]
        content.append(image)
        evidence = Dataset()
        evidence.StudyInstanceUID = ds.StudyInstanceUID
        series = Dataset()
        series.SeriesInstanceUID = original.get("SeriesInstanceUID", ds.SeriesInstanceUID)
        series.ReferencedSOPSequence = [_reference(original)]
        evidence.ReferencedSeriesSequence = [series]
        ds.CurrentRequestedProcedureEvidenceSequence = [evidence]
    if note:
        content.append(_text(_code("FINDING", "Finding"), note))
    content.extend(_knee_container(record) for record in records)
    ds.ContentSequence = content
    return ds


def to_bytes(ds) -> bytes:
    """``ds`` as a DICOM Part 10 file (preamble, meta header, Explicit VR Little Endian)."""
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
