"""The HTTP face: the original web service's contract (`POST /predict`, `GET /`) and a bit more.

    POST /predict?brightness=1.0   multipart field "file" → {"payload", "filenames", "results"}
    GET  /                         the upload page
    GET  /results/{id}.png         an annotated image
    GET  /health, GET /model       liveness and what `kneeoa info` says; OpenAPI docs at /docs

``payload`` (one list of five probabilities per graded knee) and ``filenames`` (the URL of the
film's annotated PNG, which shows every knee) keep the original's keys; ``results`` holds one
record per knee exactly as `kneeoa predict --json` prints it. Every refusal is a 4xx (or 503/507)
whose JSON ``detail`` is one sentence; no traceback ever reaches a client.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..core.errors import (CorruptImageError, ExportError, ImageLoadError, ImageTooLargeError, KneeOAError,
                           UnsupportedFormatError)
from ..core.outputs.overlay import MAX_BRIGHTNESS, MIN_BRIGHTNESS
from ..core.paths import resources_dir
from .grading_service import GradingService, QueueFullError, ServiceClosedError
from .upload_limit import UploadLimit

log = logging.getLogger("kneeoa.server.http")

API_KEY_HEADER = "X-API-Key"
PUBLIC_PATHS = {"/", "/health"}  # the page asks for the key itself; a load balancer needs /health
DEFAULT_MAX_UPLOAD = 64_000_000
NOT_STORED = "The server's output disk is full or unwritable; the result was not stored."
UNEXPECTED = "An unexpected error occurred while grading; details are in the server log."


def _status_for(exc: KneeOAError) -> int:
    if isinstance(exc, ImageTooLargeError):
        return 413
    if isinstance(exc, UnsupportedFormatError):
        return 415
    if isinstance(exc, (CorruptImageError, ImageLoadError)):
        return 400
    if isinstance(exc, (QueueFullError, ServiceClosedError)):
        return 503
    if isinstance(exc, ExportError):
        return 507  # Insufficient Storage: the output folder is full or unwritable
    return 422


def create_app(service: GradingService, *, api_key: str | None = None, facts: dict | None = None,
               max_upload_bytes: int = DEFAULT_MAX_UPLOAD):
    """The ASGI app over ``service``; with ``api_key``, every path but / and /health needs it."""
    app = FastAPI(title="KneeOA Desktop server", version=__version__,
                  description="Kellgren–Lawrence grading of knee radiographs. Decision support only — "
                              "not a diagnosis.")
    page = (resources_dir() / "server" / "upload.html").read_text(encoding="utf-8")

    @app.middleware("http")
    async def require_key(request: Request, call_next):
        if api_key is not None and request.url.path not in PUBLIC_PATHS:
            given = request.headers.get(API_KEY_HEADER, "")
            # Constant-time comparison: the answer's timing tells nothing about the key.
            if not hmac.compare_digest(given.encode("utf-8"), api_key.encode("utf-8")):
                return JSONResponse({"detail": f"A valid {API_KEY_HEADER} header is required."}, status_code=401)
        return await call_next(request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            detail = "The upload is incomplete or not valid multipart form data."
        elif exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing at this address."
        elif exc.status_code == 405:
            detail = "This address does not accept that method."
        return JSONResponse({"detail": detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        fields = {str(part) for error in exc.errors() for part in error.get("loc", ())}
        if "brightness" in fields:
            detail = f"brightness must be a number between {MIN_BRIGHTNESS:g} and {MAX_BRIGHTNESS:g}."
        elif "file" in fields:
            detail = "No image arrived in the multipart form field 'file' (it is missing or the upload was cut short)."
        else:
            detail = "The request is not valid."
        return JSONResponse({"detail": detail}, status_code=400)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def upload_page():
        return HTMLResponse(page)

    @app.get("/health")
    async def health():
        """Liveness, the model's name and the queue: cheap, and never needs the API key."""
        return {"status": "ok", "model": service.model, "pending": service.pending,
                "graded": service.graded, "failed": service.failed, "auth_required": api_key is not None}

    @app.get("/model")
    async def model():
        """What `kneeoa info` prints about the model in use."""
        return facts or {"model": service.model}

    @app.post("/predict")
    async def predict(request: Request, file: UploadFile = File(..., description="the radiograph"),
                      brightness: float = Query(1.0, ge=MIN_BRIGHTNESS, le=MAX_BRIGHTNESS,
                                                description="brightness of the evidence overlay")):
        """Grade one radiograph: the original's ``payload`` and ``filenames`` plus per-knee ``results``."""
        data = await file.read()
        name = _clean_name(file.filename)
        try:
            future = service.submit(data, name, brightness=brightness)
            outcome = await asyncio.wrap_future(future)
        except KneeOAError as exc:
            status = _status_for(exc)
            log.info("predict refused (%d): %s", status, exc)
            # The server's folders are its own business: a client is not told where they are.
            detail = NOT_STORED if isinstance(exc, ExportError) else str(exc)
            return JSONResponse({"detail": detail}, status_code=status)
        except Exception:  # a bug: the client gets one sentence, the log the traceback
            log.exception("predict failed")
            return JSONResponse({"detail": UNEXPECTED}, status_code=500)
        finally:
            await file.close()
        url = str(request.url_for("result_png", result_id=outcome.id))
        log.info("graded %s: %d knee(s)", outcome.id, len(outcome.records))
        return {"payload": outcome.payload, "filenames": [url], "results": outcome.records}

    @app.get("/results/{result_id}.png", name="result_png",
             responses={200: {"content": {"image/png": {}}, "description": "the annotated image"}})
    async def result_png(result_id: str):
        path = service.result_path(result_id)
        if path is None:
            raise HTTPException(404, "There is no result with this id.")
        return FileResponse(path, media_type="image/png")

    return UploadLimit(app, max_upload_bytes)


def _clean_name(filename: str | None) -> str:
    """The upload's file name without any folder part (it is only shown on the export)."""
    name = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[:200] or "upload"
