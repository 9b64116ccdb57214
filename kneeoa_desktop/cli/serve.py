"""`kneeoa serve`: its arguments and the call into ``server.run.serve``.

The server's packages (FastAPI, uvicorn, pynetdicom) are imported only when the command runs,
so that `kneeoa` itself starts without them.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

NEEDED = ("fastapi", "uvicorn", "multipart", "pynetdicom")


def _bounded(kind: type, low: float, high: float, what: str, refusal: str):
    """An argparse type: a ``kind`` number between ``low`` and ``high``, else one sentence."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(refusal)
        return value
    return parse


_port = _bounded(int, 1, 65535, "a port number", "a port is between 1 and 65535")
_megabytes = _bounded(float, 0.1, 2000, "a number", "the upload limit is between 0.1 and 2000 MB")
_hours = _bounded(float, 0.01, 24 * 366, "a number", "keep results between 0.01 hours and a year")


def _ae_title(text: str) -> str:
    if not 1 <= len(text) <= 16 or not text.isascii() or "\\" in text or not text.strip():
        raise argparse.ArgumentTypeError("an AE title is 1 to 16 ASCII characters")
    return text


def add_parser(sub) -> None:
    s = sub.add_parser(
        "serve", help="grade for other systems: an HTTP service and a DICOM node (needs the server extra)",
        description="Serve the grading to hospital systems from one process with the model loaded once. "
                    "HTTP: POST /predict (multipart field 'file', optional ?brightness=B) answers "
                    "{payload, filenames, results}; GET / is an upload page; GET /results/ID.png, /health, "
                    "/model; OpenAPI docs at /docs. DICOM: C-ECHO and C-STORE under --ae-title; each stored "
                    "image is graded and a Secondary Capture and a Structured Report are written to --out "
                    "(and sent on with --forward). Listens on 127.0.0.1 unless --host says otherwise; any "
                    "other address needs an API key in the environment variable KNEEOA_API_KEY, which HTTP "
                    "clients send as the X-API-Key header. Decision support only — not a diagnosis. "
                    "Install with: pip install -e \".[server]\".")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    s.add_argument("--port", type=_port, default=8000, help="HTTP port (default: %(default)s)")
    s.add_argument("--dicom-port", type=_port, default=11112, help="DICOM port (default: %(default)s)")
    s.add_argument("--no-dicom", action="store_true", help="serve HTTP only")
    s.add_argument("--ae-title", type=_ae_title, default="KNEEOA",
                   help="the DICOM node's AE title (default: %(default)s)")
    s.add_argument("--forward", metavar="AE@HOST:PORT",
                   help="send each Secondary Capture and Structured Report on to this DICOM node")
    s.add_argument("--out", metavar="DIR",
                   help="where annotated PNGs (results/) and DICOM results go (default: the user data "
                        "folder's server/)")
    s.add_argument("--keep-hours", type=_hours, default=24.0, metavar="H",
                   help="delete annotated PNGs (results/) older than this (default: %(default)s); the DICOM "
                        "objects in --out are kept")
    s.add_argument("--site-profile", metavar="PROFILE.json",
                   help="grade as calibrated for a site (a profile written by `kneeoa calibrate` for this model)")
    s.add_argument("--max-upload-mb", type=_megabytes, default=64.0, metavar="MB",
                   help="refuse HTTP uploads larger than this (default: %(default)s)")


def missing_packages() -> list[str]:
    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


def run(args) -> int:
    missing = missing_packages()
    if missing:
        print(f"kneeoa: serve needs {', '.join(missing)}; install them with: pip install -e \".[server]\"",
              file=sys.stderr)
        return 1
    from ..server.run import ServeOptions, serve

    options = ServeOptions(host=args.host, port=args.port, dicom_port=None if args.no_dicom else args.dicom_port,
                           ae_title=args.ae_title, out=Path(args.out) if args.out else None,
                           forward=args.forward, weights=args.weights, site_profile=args.site_profile,
                           max_upload_mb=args.max_upload_mb,
                           keep_hours=args.keep_hours)
    return serve(options)
