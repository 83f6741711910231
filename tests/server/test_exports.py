"""`GET /export/runs/{runId}` against a real server: for every format the answer holds what
`modelledger export run` writes for the same run, version and grid point; keys, refusals
that name the bad parameter, and no temporary files left behind."""

from __future__ import annotations

import io
import json
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet
import pytest
from modelledger_client import Client, ModelRun
from typer.testing import CliRunner

from cli.main import app
from tests.client import scene
from tests.server.live import LiveServer

runner = CliRunner()
FORMATS = ("ndjson", "coco", "parquet", "csv")
# The grid point the tests export at, not the default (0.5, 0.5): the person boxes of the
# scene (confidence 0.7) drop out at 0.8.
GRID = {"confidence": 0.8, "iou": 0.5}


@dataclass
class Seeded:
    run: ModelRun
    # The version before the predictions were uploaded.
    before_predictions: int


def seed(client: Client, folder: Path, name: str = "scene run/1") -> Seeded:
    """The scene of tests/client (30 rows, predictions counted by hand), with custom metric
    values on a few rows and a config, its metrics in sync."""
    dataset = client.create_dataset(f"exports-{uuid.uuid4().hex[:6]}")
    dataset.upsert_data_rows(scene.data_rows("e"), progress=False)
    model = client.create_model(f"detector-{uuid.uuid4().hex[:6]}", scene.ONTOLOGY)
    run = model.create_model_run(name, dataset=dataset, splits={"train": 0.5, "validate": 0.25, "test": 0.25, "seed": 3})
    before = run.refresh().version
    run.add_predictions(scene.predictions("e"), progress=False)
    custom = [{"dataRow": {"globalKey": scene.key("e", i)}, "metricName": "blur", "metricValue": i / 10} for i in range(4)]
    run.add_custom_metrics(custom, progress=False)
    run.update_config({"learning_rate": 0.01, "note": "exported"})
    run.wait_until_metrics_in_sync(timeout=120, progress=False)
    return Seeded(run.refresh(), before)


@pytest.fixture(scope="module")
def seeded(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with Client(live.url, live.write_key) as client:
        yield seed(client, tmp_path_factory.mktemp("seed"))


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the server (in this process) makes its temporary directories during a test."""
    root = tmp_path / "server-temp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def assert_removed(root: Path) -> None:
    """The server removes its directory just after the last byte went out: a moment later
    nothing is left."""
    deadline = time.monotonic() + 5
    while list(root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(root.iterdir()) == []


def cli_export(live: LiveServer, run_id: str, export_format: str, output: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(
        app,
        ["export", "run", run_id, "--format", export_format, "--output", str(output), *extra,
         "--url", live.url, "--api-key", live.write_key],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def get(live: LiveServer, run_id: str, key: str | None, **params: Any) -> httpx.Response:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{live.url}/export/runs/{run_id}", params=params, headers=headers, timeout=120)


def same_file(left: Path, right: bytes) -> None:
    """Parquet compared as tables (the writer's metadata may differ), the rest byte for byte."""
    if left.suffix == ".parquet":
        assert pyarrow.parquet.read_table(io.BytesIO(right)).to_pylist() == pyarrow.parquet.read_table(left).to_pylist()
    else:
        assert right == left.read_bytes(), left.name


def errors(response: httpx.Response) -> list[str]:
    return [error["message"] for error in response.json()["errors"]]


# ----------------------------------------------------------------------------- content


@pytest.mark.parametrize("export_format", FORMATS)
def test_the_route_answers_what_the_command_writes(
    live: LiveServer, seeded: Seeded, export_format: str, tmp_path: Path, temp_root: Path
) -> None:
    run = seeded.run
    written = cli_export(live, run.id, export_format, tmp_path / "cli", "--confidence", "0.8")
    response = get(live, run.id, live.write_key, format=export_format, **GRID)
    assert response.status_code == 200, response.text
    extension = "ndjson" if export_format == "ndjson" else f"{export_format}.zip"
    disposition = f'attachment; filename="scene_run_1-v{run.version}.{extension}"'
    assert response.headers["content-disposition"] == disposition
    if export_format == "ndjson":
        assert response.headers["content-type"] == "application/x-ndjson"
        assert response.content == (tmp_path / "cli").read_bytes()
        lines = [json.loads(line) for line in response.content.splitlines()]
        assert len(lines) == scene.ROWS
        assert sum(line["metrics"]["tp"] or 0 for line in lines) == 20
        assert {line["metrics"]["confidence"] for line in lines} == {0.8}
        # The person predictions (0.7) are below the grid point's confidence.
        fp = sum(line["metrics"]["fp"] or 0 for line in lines)
        assert fp == run.metrics(0.8, 0.5).all.fp < run.metrics(0.5, 0.5).all.fp
        blur = {line["globalKey"]: line["metrics"]["custom"] for line in lines if line["metrics"]["custom"]}
        assert blur == {scene.key("e", i): [{"name": "blur", "feature": None, "value": i / 10}] for i in range(4)}
    else:
        assert response.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(response.content)) as files:
            assert files.namelist() == [Path(path).name for path in written["files"]]
            for path in written["files"]:
                same_file(Path(path), files.read(Path(path).name))
            if export_format != "coco":
                assert json.loads(files.read("config.json")) == {"learning_rate": 0.01, "note": "exported"}
    assert_removed(temp_root)


def test_a_version_gives_the_rows_as_they_were(live: LiveServer, seeded: Seeded, tmp_path: Path) -> None:
    older = seeded.before_predictions
    cli_export(live, seeded.run.id, "ndjson", tmp_path / "old.ndjson", "--version", str(older))
    response = get(live, seeded.run.id, live.read_key, version=older)
    assert response.status_code == 200, response.text
    assert f"-v{older}.ndjson" in response.headers["content-disposition"]
    assert response.content == (tmp_path / "old.ndjson").read_bytes()
    lines = [json.loads(line) for line in response.content.splitlines()]
    assert len(lines) == scene.ROWS
    assert all(not line["predictions"] for line in lines)
    assert all(line["labels"] for line in lines)
    newest = [json.loads(line) for line in get(live, seeded.run.id, live.read_key).content.splitlines()]
    assert all(line["predictions"] for line in newest)


def test_a_read_only_key_may_export(live: LiveServer, seeded: Seeded) -> None:
    response = get(live, seeded.run.id, live.read_key, format="csv")
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as files:
        assert files.namelist() == [
            "features.csv", "data_rows.csv", "data_row_custom_metrics.csv", "confusion.csv", "config.json",
        ]  # fmt: skip


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("key", [None, "mlk_not-a-key"])
def test_without_a_known_key_the_answer_is_401(live: LiveServer, seeded: Seeded, key: str | None) -> None:
    response = get(live, seeded.run.id, key)
    assert response.status_code == 401
    assert "API key" in errors(response)[0]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"format": "xml"}, "format"),
        ({"version": "two"}, "version"),
        ({"confidence": "high"}, "confidence"),
        ({"iou": "nan"}, "iou"),
        ({"confidence": 0.123}, "confidence"),
        ({"iou": 0.77, "format": "parquet"}, "iou"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    live: LiveServer, seeded: Seeded, params: dict[str, Any], named: str, temp_root: Path
) -> None:
    response = get(live, seeded.run.id, live.write_key, **params)
    assert response.status_code == 400, response.text
    assert any(named in message for message in errors(response)), errors(response)
    assert_removed(temp_root)


@pytest.mark.parametrize("run_id", [str(uuid.UUID(int=7)), "not-an-id"])
def test_an_unknown_run_is_a_404(live: LiveServer, run_id: str, temp_root: Path) -> None:
    response = get(live, run_id, live.write_key)
    assert response.status_code == 404
    assert run_id in errors(response)[0]
    assert_removed(temp_root)


def test_an_unknown_version_is_a_404(live: LiveServer, seeded: Seeded, temp_root: Path) -> None:
    response = get(live, seeded.run.id, live.write_key, version=seeded.run.version + 50)
    assert response.status_code == 404
    assert f"version {seeded.run.version + 50}" in errors(response)[0]
    assert_removed(temp_root)
