"""Start and stop `kneeoa serve`: one model, the HTTP app and the DICOM node, in one process.

Order matters for a clean shutdown. On Ctrl+C or SIGTERM uvicorn stops accepting connections
and lets requests in flight finish; then the DICOM node stops (open associations finish);
then the grading queue is drained. Every file is written atomically, so nothing is left
half-written whatever the moment of the signal.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import KneeOAError
from ..core.model.download import is_loopback  # noqa: F401  (also the tests' import)

log = logging.getLogger("kneeoa.server")

API_KEY_ENV = "KNEEOA_API_KEY"


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    dicom_port: int | None = 11112  # None: no DICOM node
    ae_title: str = "KNEEOA"
    out: Path | None = None
    forward: str | None = None  # AE@host:port
    weights: str | None = None
    site_profile: str | None = None  # a profile from `kneeoa calibrate`, for this model
    max_upload_mb: float = 64.0
    keep_hours: float = 24.0


class ServeError(KneeOAError):
    """The server cannot start as asked (a port taken, a missing key, a bad destination)."""


def default_out_dir() -> Path:
    from ..core.paths import user_dir

    return user_dir("data", "KNEEOA_DATA_DIR") / "server"


def _check_port_free(host: str, port: int, what: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServeError(f"The {what} port {host}:{port} cannot be used ({exc.strerror}).") from None


def _stop_requested(signum, frame):
    raise KeyboardInterrupt


def serve(options: ServeOptions) -> int:
    """Run until interrupted; returns the process exit status."""
    import uvicorn

    from ..core.model.model_info import model_facts
    from ..core.model.model_store import active_weights_dir
    from ..core.model.predictor import Predictor
    from ..core.pipeline import GradingPipeline
    from .dicom_node import Destination, DicomNode
    from .grading_service import GradingService
    from .http_app import create_app
    from .memory import limit_arenas

    api_key = os.environ.get(API_KEY_ENV) or None
    if not is_loopback(options.host) and not api_key:
        raise ServeError(f"Listening on {options.host} needs an API key: set {API_KEY_ENV} "
                         "(clients send it in the X-API-Key header).")
    if api_key is not None and len(api_key) < 16:
        raise ServeError(f"{API_KEY_ENV} must be at least 16 characters long.")
    try:
        forward = Destination.parse(options.forward) if options.forward else None
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    _check_port_free(options.host, options.port, "HTTP")
    if options.dicom_port is not None:
        _check_port_free(options.host, options.dicom_port, "DICOM")
    out = Path(options.out) if options.out else default_out_dir()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ServeError(f"The output folder {out} cannot be created ({exc.strerror}).") from None

    limit_arenas()  # before the threads that would each take an arena of their own
    predictor = Predictor(options.weights or active_weights_dir())
    if options.site_profile:  # refused in one sentence before anything listens
        from ..core.verdict.site_profile import load_profile

        predictor.site_profile = load_profile(options.site_profile, predictor.manifest)
    service = GradingService(GradingPipeline(predictor), out, keep_hours=options.keep_hours)
    app = create_app(service, api_key=api_key, facts=model_facts(predictor, options.weights),
                     max_upload_bytes=int(options.max_upload_mb * 1_000_000))
    node = None
    if options.dicom_port is not None:
        node = DicomNode(service, ae_title=options.ae_title, host=options.host, port=options.dicom_port,
                         forward=forward)
        node.start()
    config = uvicorn.Config(app, host=options.host, port=options.port, log_level="warning",
                            access_log=False, timeout_graceful_shutdown=30)
    server = uvicorn.Server(config)
    print(f"kneeoa serve: model {service.model} on {predictor.device}; "
          f"HTTP http://{options.host}:{options.port}/"
          + (f"; DICOM {options.ae_title}@{options.host}:{options.dicom_port}" if node else "")
          + (f" (forward to {options.forward})" if forward else "")
          + f"; results in {out}. Decision support only — not a diagnosis. Ctrl+C stops.",
          file=sys.stderr, flush=True)
    log.info("serve started: http %s:%d, dicom %s, model %s", options.host, options.port,
             options.dicom_port, service.model)
    # uvicorn handles SIGINT/SIGTERM itself (stop accepting, finish requests in flight) and then
    # raises the signal again; SIGTERM's default action would kill the process before the DICOM
    # node and the queue are closed, so it is turned into the same exception as Ctrl+C.
    previous = signal.signal(signal.SIGTERM, _stop_requested)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # the requested way to stop; what follows closes the rest
    finally:
        signal.signal(signal.SIGTERM, previous)
        if node is not None:
            node.stop()
        service.close(wait=True)
        log.info("serve stopped: %d graded, %d refused", service.graded, service.failed)
        print(f"kneeoa serve: stopped ({service.graded} graded, {service.failed} refused).",
              file=sys.stderr, flush=True)
    return 0
