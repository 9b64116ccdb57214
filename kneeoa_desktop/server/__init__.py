"""`kneeoa serve`: the grading pipeline behind HTTP (FastAPI) and a DICOM node (pynetdicom).

One process, one model loaded once (``grading_service``); the HTTP app (``http_app``) and the
DICOM node (``dicom_node``) both queue their work onto it; ``run`` starts and stops them.
Needs the ``server`` extra: ``pip install -e ".[server]"``.
"""
