"""The server serves the web app's committed build: the app at `/` and at every address of
its own, GraphiQL at GET /graphql, and never in place of the server's own routes."""

from __future__ import annotations

import re

import httpx

from routes.web_app import BUILD
from tests.server.live import LiveServer


def test_the_app_is_served_at_its_addresses(live: LiveServer) -> None:
    index = (BUILD / "index.html").read_text()
    with httpx.Client(base_url=live.url) as client:
        for path in ("/", "/models/m1", "/runs/r1/gallery", "/runs/r1/metrics", "/no/such/page"):
            answer = client.get(path)
            assert answer.status_code == 200 and answer.text == index, path
            assert answer.headers["cache-control"] == "no-cache"


def test_every_bundle_it_names_is_served_from_here(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as client:
        for page in ("index.html", "graphiql.html"):
            html = (BUILD / page).read_text()
            assets = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert assets and all(a.startswith("/static/") or a.startswith("data:") for a in assets), assets
            for asset in (a for a in assets if a.startswith("/static/")):
                answer = client.get(asset)
                assert answer.status_code == 200, asset
                assert "immutable" in answer.headers["cache-control"]
        assert client.get("/static/missing.js").status_code == 404


def test_graphiql_is_the_local_build_not_a_cdn_page(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as client:
        answer = client.get("/graphql", headers={"Accept": "text/html"})
    assert answer.status_code == 200
    assert answer.text == (BUILD / "graphiql.html").read_text()
    assert "unpkg" not in answer.text and "jsdelivr" not in answer.text


def test_the_server_s_own_paths_are_never_the_app(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/graphql", headers={"Accept": "application/json"}).status_code == 401
        for path in ("/assets/d1/a.jpg", "/upload/datasets/x/data-rows", "/graphql/extra", "/ready/x", "/health/x"):
            answer = client.get(path)
            assert '<div id="root">' not in answer.text, path
        assert client.get("/assets/d1/a.jpg").status_code in (401, 404)
        assert client.post("/", content=b"").status_code == 405
