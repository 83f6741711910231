"""Liveness and readiness for orchestrators and load balancers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from projections.runners import ReadModelStopped

if TYPE_CHECKING:
    from runtime import Runtime

# Readiness must answer quickly even when the database hangs.
READY_TIMEOUT_SECONDS = 3.0


async def health(request: Request) -> Response:
    """The process is up and serving; says nothing of the database."""
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    """The database answers and the read models hold every recorded event. A read model that
    stopped is named with the event it stopped at and the error (it is started again by
    itself, with backoff: projections.healing)."""
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    with anyio.move_on_after(READY_TIMEOUT_SECONDS):
        try:
            await anyio.to_thread.run_sync(_reach_database, runtime, abandon_on_cancel=True)
        except Exception as exc:  # noqa: BLE001 (any failure to reach the database means not ready)
            return JSONResponse({"status": "database unreachable", "error": type(exc).__name__}, status_code=503)
        try:
            return await anyio.to_thread.run_sync(_read_models_status, runtime, abandon_on_cancel=True)
        except Exception as exc:  # noqa: BLE001 (the database failed while answering)
            return JSONResponse({"status": "database unreachable", "error": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "database not answering"}, status_code=503)


def _reach_database(runtime: Runtime) -> None:
    with runtime.database.connect(connect_timeout=2) as conn:
        conn.execute("SELECT 1")


def _read_models_status(runtime: Runtime) -> Response:
    try:
        runtime.read_models.wait(runtime.app.recorder.max_notification_id(), 0.5)
    except TimeoutError:
        return JSONResponse({"status": "read models catching up"}, status_code=503)
    except ReadModelStopped:
        pass
    stopped = runtime.read_models.stopped()
    if stopped:
        return JSONResponse(
            {"status": "read models stopped", "stopped": [s.as_json() for s in stopped]}, status_code=503
        )
    return JSONResponse({"status": "ready"})


def health_routes() -> list[Route]:
    return [Route("/health", health, methods=["GET"]), Route("/ready", ready, methods=["GET"])]
