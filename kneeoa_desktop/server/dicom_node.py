"""The DICOM face: a C-ECHO and C-STORE SCP that grades each received knee film.

For each stored image the node grades it through the shared ``GradingService`` and writes,
into ``--out``, a Secondary Capture of the annotated film (``<uid>.sc.dcm``) and a
Comprehensive SR (``<uid>.sr.dcm``); with ``--forward AE@host:port`` both are then sent on by
C-STORE. A film out of scope (lateral, implant, not a knee) still gets an SR that says so; an
object without pixels (an SR, a presentation state) is acknowledged and left alone. Status
codes tell the sender what went wrong (0xC000 unreadable image, 0xA700 output disk full), and
patient identifiers never reach the log: it names objects by their new UIDs only.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from ..core.errors import ExportError, ImageLoadError, KneeOAError
from .dicom_objects import COMPREHENSIVE_SR, SECONDARY_CAPTURE, secondary_capture, structured_report, to_bytes

log = logging.getLogger("kneeoa.server.dicom")

SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000
PROCESSING_FAILURE = 0x0110


@dataclass(frozen=True)
class Destination:
    """Where results are forwarded: ``AE@host:port``."""

    ae_title: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> "Destination":
        ae, at, address = text.partition("@")
        host, colon, port = address.rpartition(":")
        if not (at and colon and ae and host and port.isdigit() and 0 < int(port) < 65536 and len(ae) <= 16):
            raise ValueError(f"'{text}' is not a destination of the form AE@host:port.")
        return cls(ae, host, int(port))


def _status(code: int, comment: str | None = None):
    from pydicom.dataset import Dataset

    status = Dataset()
    status.Status = code
    if comment:
        status.ErrorComment = comment[:64]  # LO: 64 characters at most
    return status


class DicomNode:
    """Owns the pynetdicom AE; ``start`` listens in the background, ``stop`` closes cleanly."""

    def __init__(self, service, *, ae_title: str = "KNEEOA", host: str = "127.0.0.1", port: int = 11112,
                 forward: Destination | None = None, max_associations: int = 32):
        from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
        from pynetdicom.sop_class import Verification

        self.service = service
        self.ae_title = ae_title
        self.address = (host, port)
        self.forward = forward
        self.received = 0
        self._lock = threading.Lock()
        ae = AE(ae_title=ae_title)
        ae.maximum_associations = max_associations
        ae.require_called_aet = True  # only associations addressed to our AE title
        ae.add_supported_context(Verification)
        for context in AllStoragePresentationContexts:
            ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        self.ae = ae
        self._handlers = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_C_ECHO, self._on_echo)]
        self._server = None

    def start(self) -> None:
        self._server = self.ae.start_server(self.address, block=False, evt_handlers=self._handlers)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()  # waits for open associations' threads to finish
            self._server = None

    def _on_echo(self, event):
        return SUCCESS

    def _on_store(self, event):
        with self._lock:
            self.received += 1
        try:
            original = event.dataset
            original.file_meta = event.file_meta
            if "PixelData" not in original:
                log.info("C-STORE of an object without pixels acknowledged and not graded")
                return SUCCESS
            data = to_bytes(original)
        except Exception as exc:  # pydicom cannot parse what was sent
            log.info("C-STORE refused: the data set cannot be decoded (%s)", type(exc).__name__)
            return _status(CANNOT_UNDERSTAND, "The data set cannot be decoded.")
        try:
            outcome = self.service.grade(data, "received.dcm")
            records = outcome.records
            tag = self.service.model
            sc = secondary_capture(original, outcome.rgb, tag)
            sr = structured_report(original, records, tag)
            self.service.write(to_bytes(sc), f"{sc.SOPInstanceUID}.sc.dcm")
            self.service.write(to_bytes(sr), f"{sr.SOPInstanceUID}.sr.dcm")
        except ExportError as exc:
            log.warning("C-STORE: results could not be written (%s)", exc)
            return _status(OUT_OF_RESOURCES, "The results could not be written.")
        except ImageLoadError as exc:
            log.info("C-STORE: the image cannot be graded (%s)", type(exc).__name__)
            return self._refusal_report(original, str(exc))
        except KneeOAError as exc:
            log.warning("C-STORE: grading failed (%s)", exc)
            return _status(OUT_OF_RESOURCES, str(exc))
        except Exception:
            log.exception("C-STORE: unexpected failure")
            return _status(PROCESSING_FAILURE, "Unexpected error; see the server log.")
        log.info("C-STORE graded: %d knee(s), SR %s, SC %s", len(records), sr.SOPInstanceUID, sc.SOPInstanceUID)
        if self.forward is not None:
            self._send_on([sc, sr])
        return SUCCESS

    def _refusal_report(self, original, sentence: str):
        """An image we cannot read still gets an SR that says why, and the sender a failure status."""
        try:
            sr = structured_report(original, [], self.service.model, note=f"Not graded: {sentence}")
            self.service.write(to_bytes(sr), f"{sr.SOPInstanceUID}.sr.dcm")
            if self.forward is not None:
                self._send_on([sr])
        except Exception as exc:  # the report is a courtesy; the status below is the answer
            log.warning("C-STORE: the refusal report could not be written (%s)", type(exc).__name__)
        return _status(CANNOT_UNDERSTAND, sentence)

    def _send_on(self, datasets) -> None:
        from pydicom.uid import ExplicitVRLittleEndian
        from pynetdicom import AE

        destination = self.forward
        ae = AE(ae_title=self.ae_title)
        for sop_class in {SECONDARY_CAPTURE, COMPREHENSIVE_SR}:
            ae.add_requested_context(sop_class, ExplicitVRLittleEndian)
        try:
            assoc = ae.associate(destination.host, destination.port, ae_title=destination.ae_title)
            if not assoc.is_established:
                log.warning("forward to %s refused or unreachable; results stay in the output folder",
                            destination.ae_title)
                return
            try:
                for ds in datasets:
                    status = assoc.send_c_store(ds)
                    if not status or status.Status != SUCCESS:
                        log.warning("forward of %s to %s failed", ds.SOPInstanceUID, destination.ae_title)
            finally:
                assoc.release()
        except Exception as exc:
            log.warning("forward to %s failed (%s); results stay in the output folder",
                        destination.ae_title, type(exc).__name__)

