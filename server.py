"""The ASGI app: GraphQL at /graphql (GraphiQL, subscriptions), bulk uploads, run exports,
/health, /ready.

    uvicorn --factory server:create_app

opens the database named by the POSTGRES_* variables (or the embedded one) at start-up.
The command line passes the runtime it opened instead, and closes it itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from projections.warming import RunWarming
from routes.assets import AssetSettings, asset_routes
from routes.auth import ApiKeys
from routes.embedding_uploads import embedding_upload_routes
from routes.exports import export_routes
from routes.graphql import GraphQLRoute
from routes.health import health_routes
from routes.security_headers import SecurityHeaders
from routes.unknown import EXCEPTION_HANDLERS
from routes.uploads import UploadLimits, upload_routes
from routes.web_app import web_app_routes
from runtime import Runtime, open_runtime
from schema import Limits, build_schema
from schema.run_event_feed import RunEventFeed
from storage.database import (
    DEFAULT_DATA_DIR,
    database_from_environment,
    external_database_configured,
)
from workers.in_process import server_work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    limits: Limits = field(default_factory=Limits)
    uploads: UploadLimits = field(default_factory=UploadLimits)
    assets: AssetSettings = field(default_factory=AssetSettings)
    graphql_max_body_bytes: int = 1024**2
    graphiql: bool = True
    # How often subscriptions look for new events (see schema/run_event_feed.py).
    subscription_poll_seconds: float = 0.2
    # The shortest time between two warm-ups of the runs (projections/warming.py); None: off.
    warm_runs_every_seconds: float | None = 1.0

    @classmethod
    def from_environment(cls, data_dir: Path | None = None) -> Settings:
        """Defaults, with MODELLEDGER_GRAPHQL_MAX_BODY_BYTES / _GRAPHQL_MAX_ANSWER_BYTES /
        _UPLOAD_MAX_BODY_BYTES / _ASSET_MAX_BODY_BYTES applied, and the media root of asset files:
        MODELLEDGER_MEDIA_ROOT, else `<data dir>/assets` beside the embedded database.
        With an external database and no MODELLEDGER_MEDIA_ROOT asset files are off: one
        server's local directory would hide files from the other replicas."""
        settings = cls()
        graphql_max = os.environ.get("MODELLEDGER_GRAPHQL_MAX_BODY_BYTES")
        answer_max = os.environ.get("MODELLEDGER_GRAPHQL_MAX_ANSWER_BYTES")
        upload_max = os.environ.get("MODELLEDGER_UPLOAD_MAX_BODY_BYTES")
        asset_max = os.environ.get("MODELLEDGER_ASSET_MAX_BODY_BYTES")
        media_root = os.environ.get("MODELLEDGER_MEDIA_ROOT")
        if media_root:
            root: Path | None = Path(media_root)
        elif external_database_configured():
            root = None
        else:
            root = (data_dir or DEFAULT_DATA_DIR) / "assets"
        return cls(
            limits=replace(settings.limits, max_answer_bytes=int(answer_max)) if answer_max else settings.limits,
            uploads=UploadLimits(max_body_bytes=int(upload_max)) if upload_max else settings.uploads,
            assets=AssetSettings(
                media_root=root,
                max_body_bytes=int(asset_max) if asset_max else settings.assets.max_body_bytes,
            ),
            graphql_max_body_bytes=int(graphql_max) if graphql_max else settings.graphql_max_body_bytes,
            graphiql=settings.graphiql,
            subscription_poll_seconds=settings.subscription_poll_seconds,
            warm_runs_every_seconds=settings.warm_runs_every_seconds,
        )


def freeze_long_lived_objects() -> None:
    """Leave what imports and start-up made (a few hundred thousand objects, kept for the
    process's life) out of the garbage collector's full passes: each such pass went over all
    of them and added 60-90 ms to one request in three that made many objects (a confusion
    matrix's thousands of cells). They are still freed by reference counting when unused,
    but a cycle among them never is: run it once, in a process that serves (`modelledger
    serve`), not for each app a process makes (tests make hundreds)."""
    gc.collect()
    gc.freeze()


def create_app(runtime: Runtime | None = None, settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_environment()
    graphql = GraphQLRoute(
        build_schema(settings.limits),
        limits=settings.limits,
        max_body_bytes=settings.graphql_max_body_bytes,
        graphiql=settings.graphiql,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        opened = runtime is None
        current = runtime
        if current is None:
            current = await anyio.to_thread.run_sync(lambda: open_runtime(database_from_environment()))
        feed = RunEventFeed(
            current,
            poll_seconds=settings.subscription_poll_seconds,
            wait_seconds=settings.limits.read_model_wait_seconds,
        )
        app.state.runtime = current
        app.state.run_event_feed = feed
        app.state.api_keys = ApiKeys(current)
        # Metric computations (and the sweeper that keeps them going) run beside the API.
        work = await anyio.to_thread.run_sync(lambda: server_work(current))
        warming = None
        if settings.warm_runs_every_seconds is not None:
            warming = asyncio.get_running_loop().create_task(
                _keep_warm(feed, RunWarming(current.read_models), settings.warm_runs_every_seconds), name="warm-runs"
            )
        try:
            yield
        finally:
            if warming is not None:
                warming.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await warming
            await anyio.to_thread.run_sync(work.stop)
            await feed.close()
            if opened:
                await anyio.to_thread.run_sync(current.close)

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *upload_routes(),
            *embedding_upload_routes(),
            *asset_routes(),
            *export_routes(),
            *health_routes(),
            *web_app_routes(),
        ],
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.upload_limits = settings.uploads
    app.state.asset_settings = settings.assets
    return app


async def _keep_warm(feed: RunEventFeed, warming: RunWarming, every_seconds: float) -> None:
    """Warms the runs at start and after each change of the log, at most once in a period."""
    feed.subscribe()
    try:
        while True:
            changed = feed.next_change()
            try:
                await anyio.to_thread.run_sync(warming.warm)
            except Exception:  # noqa: BLE001 (a failed warm-up leaves the first read to build)
                log.exception("warming the runs failed; trying again at the next change")
            await changed.wait()
            await asyncio.sleep(every_seconds)
    finally:
        feed.unsubscribe()
