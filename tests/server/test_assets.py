"""Asset files: uploaded with PUT, served with GET, never a path outside the media root."""

from __future__ import annotations

import http.client
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import orjson
import pytest

from routes.assets import PARTIAL_DIR, AssetSettings
from routes.auth import ApiKeys
from server import Settings, create_app
from storage.database import DEFAULT_DATA_DIR
from tests.server.live import Api, LiveServer
from tests.server.operations import CREATE_DATASET, payload

LIMIT = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@dataclass(frozen=True)
class Disk:
    base: Path  # holds the media root and a directory outside it

    @property
    def root(self) -> Path:
        return self.base / "media"

    @property
    def outside(self) -> Path:
        return self.base / "outside"

    def snapshot(self) -> dict[str, bytes | None]:
        """Every entry below `base` (links not followed), with the bytes of regular files."""
        seen: dict[str, bytes | None] = {}
        for directory, dirs, files in os.walk(self.base):
            for name in dirs + files:
                path = Path(directory, name)
                regular = path.is_file() and not path.is_symlink()
                seen[str(path.relative_to(self.base))] = path.read_bytes() if regular else None
        return seen

    def partial_files(self) -> list[Path]:
        partial = self.root / PARTIAL_DIR
        return sorted(partial.iterdir()) if partial.exists() else []


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Disk:
    disk = Disk(tmp_path_factory.mktemp("assets"))
    disk.outside.mkdir()
    (disk.outside / "secret.txt").write_bytes(b"not for clients")
    return disk


@pytest.fixture(scope="module")
def server_settings(disk: Disk) -> Settings:
    return Settings(assets=AssetSettings(media_root=disk.root, max_body_bytes=LIMIT))


def new_dataset(live: LiveServer, name: str = "assets") -> str:
    created = payload(live.writer.data(CREATE_DATASET, name=name), "createDataset")
    return str(created["dataset"]["id"])


@pytest.fixture(scope="module")
def dataset_id(live: LiveServer) -> str:
    return new_dataset(live)


def put(live: LiveServer, dataset_id: str, path: str, body: Any, api: Api | None = None) -> httpx.Response:
    return (api or live.writer).client.put(f"/upload/datasets/{dataset_id}/assets/{path}", content=body)


def refused(response: httpx.Response, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["errors"][0]["message"]
    assert all(word in message for word in words), message
    return message


def raw_request(live: LiveServer, method: str, target: str, key: str, body: bytes = b"") -> tuple[int, str]:
    """A request whose target goes out byte for byte (httpx would remove dot segments):
    the status and the error message."""
    url = urlsplit(live.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        content = response.read()
        try:
            return response.status, orjson.loads(content)["errors"][0]["message"]
        except orjson.JSONDecodeError:
            return response.status, content.decode()
    finally:
        conn.close()


def test_an_uploaded_file_is_served(live: LiveServer, disk: Disk, dataset_id: str) -> None:
    created = put(live, dataset_id, "images/cat%201.png", PNG)
    assert created.status_code == 201, created.text
    row_data = f"/assets/{dataset_id}/images/cat%201.png"
    assert created.json() == {"rowData": row_data, "bytes": len(PNG), "contentType": "image/png"}
    assert (disk.root / dataset_id / "images" / "cat 1.png").read_bytes() == PNG

    for api in (live.reader, live.writer):
        served = api.client.get(row_data)
        assert served.status_code == 200 and served.content == PNG
        assert served.headers["content-type"] == "image/png"
        assert served.headers["content-security-policy"] == "sandbox"
        assert served.headers["last-modified"] and served.headers["etag"]
    head = live.reader.client.head(row_data)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(PNG)
    part = live.reader.client.get(row_data, headers={"Range": "bytes=8-15"})
    assert part.status_code == 206 and part.content == PNG[8:16]
    first = live.reader.client.get(row_data).headers
    not_modified = live.reader.client.get(row_data, headers={"If-None-Match": f'"other", {first["etag"]}'})
    assert not_modified.status_code == 304 and not_modified.headers["etag"] == first["etag"]
    assert live.reader.client.get(row_data, headers={"If-None-Match": '"other"'}).status_code == 200
    since = live.reader.client.get(row_data, headers={"If-Modified-Since": first["last-modified"]})
    assert since.status_code == 304

    replaced = put(live, dataset_id, "images/cat%201.png", b"second")
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["bytes"] == 6
    assert live.reader.client.get(row_data).content == b"second"
    assert disk.partial_files() == []


def test_content_types_come_from_the_name(live: LiveServer, dataset_id: str) -> None:
    for path, expected in (("a.jpg", "image/jpeg"), ("notes.txt", "text/plain"), ("blob", "application/octet-stream")):
        uploaded = put(live, dataset_id, path, b"x")
        assert uploaded.json()["contentType"] == expected
        assert live.reader.client.get(uploaded.json()["rowData"]).headers["content-type"].startswith(expected)


def test_rows_point_at_their_own_datasets_files(live: LiveServer, dataset_id: str) -> None:
    row_data = put(live, dataset_id, "rows/r-0.png", PNG).json()["rowData"]
    other = new_dataset(live, "other")
    lines = [
        {"globalKey": "r-0", "rowData": row_data},
        {"globalKey": "r-1", "rowData": f"/assets/{dataset_id}/not-uploaded-yet.png"},
    ]
    assert live.writer.upload(f"/upload/datasets/{dataset_id}/data-rows", lines).status_code == 200
    elsewhere = live.writer.upload(
        f"/upload/datasets/{other}/data-rows",
        [{"globalKey": "fine", "rowData": "https://x.example/a.png"}, {"globalKey": "r-0", "rowData": row_data}],
    )
    assert elsewhere.status_code == 422, elsewhere.text
    error = elsewhere.json()["errors"][0]
    assert error["line"] == 2 and dataset_id in error["message"] and "'r-0'" in error["message"]


def test_keys_and_datasets_are_checked(live: LiveServer, disk: Disk, dataset_id: str) -> None:
    before = disk.snapshot()
    refused(put(live, dataset_id, "k.png", PNG, live.api()), 401, "API key")
    refused(put(live, dataset_id, "k.png", PNG, live.api("mlk_wrong")), 401)
    refused(put(live, dataset_id, "k.png", PNG, live.reader), 403, "read-only")
    missing = "00000000-0000-4000-8000-000000000000"
    refused(put(live, missing, "k.png", PNG), 404, missing)
    deleted = live.runtime.app.create_dataset("gone", actor="test")
    live.runtime.app.delete_dataset(deleted.id, actor="test")
    refused(put(live, str(deleted.id), "k.png", PNG), 404, str(deleted.id))
    assert disk.snapshot() == before

    put(live, dataset_id, "keyed.png", PNG)
    for api in (live.api(), live.api("mlk_wrong")):
        refused(api.client.get(f"/assets/{dataset_id}/keyed.png"), 401)
    refused(live.reader.client.get(f"/assets/{dataset_id}/absent.png"), 404, "'absent.png'")
    refused(live.reader.client.get(f"/assets/{dataset_id}/images"), 404, "'images'")


TRAVERSALS = [
    ("../x.png", "'..' segment"),
    ("a/../../x.png", "'..' segment"),
    ("%2e%2e%2fx.png", "'..' segment"),
    ("%2E%2E%2F%2E%2E%2Foutside%2Fsecret.txt", "'..' segment"),
    ("a/%2e%2e/%2e%2e/outside/secret.txt", "'..' segment"),
    ("..%2f..%2foutside/secret.txt", "'..' segment"),
    ("./x.png", "'.' segment"),
    ("%2fetc%2fpasswd", "absolute"),
    ("/etc/passwd", "absolute"),
    ("..%5c..%5cx.png", "backslash"),
    ("a%5cx.png", "backslash"),
    ("x%00.png", "NUL"),
    ("a//x.png", "empty segment"),
    ("a/", "empty segment"),
]


@pytest.mark.parametrize(("path", "problem"), TRAVERSALS, ids=[p for p, _ in TRAVERSALS])
def test_paths_that_could_leave_the_dataset_are_refused(
    live: LiveServer, disk: Disk, dataset_id: str, path: str, problem: str
) -> None:
    decoded = unquote(path)  # the message names the path as the server decoded it
    before = disk.snapshot()
    status, message = raw_request(live, "PUT", f"/upload/datasets/{dataset_id}/assets/{path}", live.write_key, b"x")
    assert status == 400 and problem in message and repr(decoded) in message, message
    status, message = raw_request(live, "GET", f"/assets/{dataset_id}/{path}", live.read_key)
    assert status == 400 and problem in message and repr(decoded) in message, message
    assert disk.snapshot() == before


@pytest.mark.parametrize("dataset", ["..", "%2e%2e", "not-a-dataset", "%2e%2e%2f%2e%2e"])
def test_a_dataset_id_must_be_one(live: LiveServer, disk: Disk, dataset: str) -> None:
    before = disk.snapshot()
    status, message = raw_request(live, "PUT", f"/upload/datasets/{dataset}/assets/x.png", live.write_key, b"x")
    if "%2f" in dataset:
        # `/upload/datasets/../../assets/x.png` matches no upload route at all.
        assert status in (404, 405), message
    else:
        assert status == 400 and f"{unquote(dataset)!r} is not a dataset id" in message, message
    status, message = raw_request(live, "GET", f"/assets/{dataset}/outside/secret.txt", live.read_key)
    named = "'not-a-dataset'" if dataset == "not-a-dataset" else "'..'"
    assert status == 400 and f"{named} is not a dataset id" in message, message
    assert disk.snapshot() == before


def test_links_out_of_the_dataset_are_refused(live: LiveServer, disk: Disk, dataset_id: str) -> None:
    home = disk.root / dataset_id
    home.mkdir(parents=True, exist_ok=True)
    other = new_dataset(live, "linked")
    put(live, other, "theirs.png", PNG)
    (home / "out").symlink_to(disk.outside, target_is_directory=True)
    (home / "secret-link.txt").symlink_to(disk.outside / "secret.txt")
    (home / "neighbour").symlink_to(disk.root / other, target_is_directory=True)
    (home / "inside").symlink_to(home / "images", target_is_directory=True)
    (home / "loop").symlink_to(home / "loop")
    before = disk.snapshot()
    assert live.reader.client.get(f"/assets/{dataset_id}/loop/x.png").status_code in (400, 404)
    assert put(live, dataset_id, "loop/x.png", b"x").status_code in (400, 409)
    for path in ("out/secret.txt", "secret-link.txt", "neighbour/theirs.png"):
        refused(live.reader.client.get(f"/assets/{dataset_id}/{path}"), 400, "outside", repr(path))
    for path in ("out/new.txt", "secret-link.txt", "neighbour/theirs.png", "out/deeper/new.txt"):
        refused(put(live, dataset_id, path, b"overwritten"), 400, "outside", repr(path))
    assert disk.snapshot() == before
    assert (disk.outside / "secret.txt").read_bytes() == b"not for clients"
    # A link that stays inside the dataset's directory is an ordinary path.
    assert put(live, dataset_id, "images/in.png", PNG).status_code == 201
    assert live.reader.client.get(f"/assets/{dataset_id}/inside/in.png").content == PNG


def test_a_body_over_the_limit_leaves_nothing(live: LiveServer, disk: Disk, dataset_id: str) -> None:
    before = disk.snapshot()
    refused(put(live, dataset_id, "big.bin", b"x" * (LIMIT + 1)), 413, f"{LIMIT} bytes")

    def chunked() -> Iterator[bytes]:
        # No Content-Length: the limit is enforced while the bytes arrive.
        for _ in range(LIMIT // 1000 + 2):
            yield b"x" * 1000

    refused(put(live, dataset_id, "big.bin", chunked()), 413)
    assert disk.snapshot() == before
    assert put(live, dataset_id, "exact.bin", b"x" * LIMIT).status_code == 201


def test_an_interrupted_upload_leaves_the_old_file(live: LiveServer, disk: Disk, dataset_id: str) -> None:
    assert put(live, dataset_id, "kept.png", PNG).status_code == 201
    before = disk.snapshot()
    url = urlsplit(live.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            (
                f"PUT /upload/datasets/{dataset_id}/assets/kept.png HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Authorization: Bearer {live.write_key}\r\nContent-Length: 10000\r\n\r\n"
            ).encode()
            + b"y" * 100
        )
        deadline = time.monotonic() + 10
        while not disk.partial_files():  # the upload is under way
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.02)
    deadline = time.monotonic() + 10
    while disk.partial_files():
        assert time.monotonic() < deadline, disk.partial_files()
        time.sleep(0.02)
    assert disk.snapshot() == before
    assert live.reader.client.get(f"/assets/{dataset_id}/kept.png").content == PNG


def test_a_path_taken_by_a_directory_or_a_file_conflicts(live: LiveServer, disk: Disk, dataset_id: str) -> None:
    assert put(live, dataset_id, "tree/leaf.txt", b"leaf").status_code == 201
    before = disk.snapshot()
    refused(put(live, dataset_id, "tree", b"x"), 409, "'tree'", "directory")
    refused(put(live, dataset_id, "tree/leaf.txt/under.txt", b"x"), 409, "'tree/leaf.txt/under.txt'")
    assert disk.snapshot() == before


async def test_without_a_media_root_asset_files_are_off(live: LiveServer, dataset_id: str) -> None:
    app = create_app(live.runtime, Settings())
    # No lifespan: this app borrows the running server's runtime.
    app.state.runtime = live.runtime
    app.state.api_keys = ApiKeys(live.runtime)
    headers = {"Authorization": f"Bearer {live.write_key}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app", headers=headers) as client:
        for response in (
            await client.put(f"/upload/datasets/{dataset_id}/assets/a.png", content=b"x"),
            await client.get(f"/assets/{dataset_id}/a.png"),
        ):
            refused(response, 503, "MODELLEDGER_MEDIA_ROOT")


def test_the_media_root_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith(("POSTGRES_", "MODELLEDGER_"))]:
        monkeypatch.delenv(name)
    assert Settings.from_environment().assets.media_root == DEFAULT_DATA_DIR / "assets"
    assert Settings.from_environment(tmp_path).assets.media_root == tmp_path / "assets"
    monkeypatch.setenv("POSTGRES_HOST", "db.example")
    assert Settings.from_environment(tmp_path).assets.media_root is None
    monkeypatch.setenv("MODELLEDGER_MEDIA_ROOT", str(tmp_path / "shared"))
    monkeypatch.setenv("MODELLEDGER_ASSET_MAX_BODY_BYTES", "1234")
    assets = Settings.from_environment(tmp_path).assets
    assert (assets.media_root, assets.max_body_bytes) == (tmp_path / "shared", 1234)
