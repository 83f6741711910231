"""Bulk embedding upload: POST /upload/datasets/{datasetId}/embeddings/{space} (NDJSON).

Lines `{"dataRow": {"id"|"globalKey"}, "vector": [...]}` (or `{"id", "vector"}`), streamed
and validated whole before anything is recorded, answered as every bulk route answers
(routes/uploads.py): 200 {"accepted", "version"} or 422 with the line errors. A space that
does not exist yet is created with the dimension of the first line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from routes.uploads import Lines, _upload

if TYPE_CHECKING:
    from application import ModelLedger


async def embeddings_route(request: Request) -> Response:
    space = request.path_params["space"]

    def upload(app: ModelLedger, dataset_id: UUID, lines: Lines, actor: str) -> tuple[int, int]:
        embedding_space, notification_id, _ = app.upload_embeddings(dataset_id, space, lines, actor)
        return embedding_space.version, notification_id

    return await _upload(request, request.path_params["dataset_id"], "dataset", upload)


def embedding_upload_routes() -> list[Route]:
    return [Route("/upload/datasets/{dataset_id}/embeddings/{space}", embeddings_route, methods=["POST"])]
