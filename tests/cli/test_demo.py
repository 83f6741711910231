"""The demo loaded into a real server (smaller than `make demo`, the same code), checked
through the API: counts, splits, accuracy counted from the rows, every annotation kind,
projections and asset files; then the command itself, on a server and with --serve."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from itertools import takewhile
from pathlib import Path

import pytest
from modelledger_client import Client, ModelRun
from PIL import Image
from typer.testing import CliRunner

from cli.main import app
from demo import DemoSize, Loaded, load_demo
from demo import digits as demo_digits
from routes.assets import AssetSettings
from server import Settings
from tests.server.live import LiveServer, free_port, live, module_database

__all__ = ["live", "module_database"]

SIZE = DemoSize(digits=600, scenes=12, seed=3)
# Each classifier reaches about 0.97 on the test split; far less means a wrong split or label.
PLAUSIBLE_ACCURACY = 0.85
EVERY_KIND = {"bbox", "polygon", "mask", "point", "line", "answer"}
TEST_SPLIT = {"all": [{"split": ["TEST"]}]}


@pytest.fixture(scope="module")
def server_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Asset files need a media root, which an external database does not get by default."""
    return Settings(assets=AssetSettings(media_root=tmp_path_factory.mktemp("media")))


@pytest.fixture(scope="module")
def client(live: LiveServer) -> Iterator[Client]:
    with Client(live.url, live.write_key) as opened:
        yield opened


@pytest.fixture(scope="module")
def loaded(client: Client) -> Loaded:
    return load_demo(client, SIZE, say=lambda _: None, progress=False)


def run_named(loaded: Loaded, name: str) -> ModelRun:
    return next(r.run for r in loaded.runs if r.run.name == name)


def test_every_row_is_loaded(client: Client, loaded: Loaded) -> None:
    assert client.get_dataset(loaded.digits.id).row_count == SIZE.digits
    assert client.get_dataset(loaded.scenes.id).row_count == SIZE.scenes
    counts = {r.run.name: client.get_model_run(r.run.id).row_count for r in loaded.runs}
    assert counts == {
        "logistic-regression": SIZE.digits,
        "svm": SIZE.digits,
        "noisy-detector": SIZE.scenes,
    }
    spaces = {
        s.name: (s.dimension, s.vector_count)
        for s in client.get_dataset(loaded.digits.id).embedding_spaces()
    }
    assert spaces == {"pixels": (64, SIZE.digits), "svm-decision": (10, SIZE.digits)}


@pytest.mark.parametrize("name", ["logistic-regression", "svm"])
def test_a_digit_run_is_in_sync_trained_on_its_training_split_and_accurate(
    loaded: Loaded, name: str
) -> None:
    run = run_named(loaded, name)
    assert run.metrics_status().state == "IN_SYNC"
    trained_with = demo_digits.load(SIZE.digits, SIZE.seed)
    rows = list(run.data_rows(page_size=1000))
    assert {row.global_key: row.split for row in rows} == dict(
        zip(trained_with.keys, trained_with.splits, strict=True)
    )
    tested = [row for row in rows if row.split == "TEST"]
    right = sum(
        row.predictions[0]["answer"]["name"] == row.labels[0]["answer"]["name"] for row in tested
    )
    assert right / len(tested) > PLAUSIBLE_ACCURACY
    # The server's metrics agree with the count: one answer per row, every prediction counted.
    assert run.metrics(confidence=0.0, iou=0.5, filter=TEST_SPLIT).all.recall == pytest.approx(
        right / len(tested)
    )


def test_the_detection_run_has_every_annotation_kind(loaded: Loaded) -> None:
    run = run_named(loaded, "noisy-detector")
    assert run.metrics_status().state == "IN_SYNC"
    rows = list(run.data_rows(page_size=100))
    labels = [label for row in rows for label in row.labels]
    predictions = [p for row in rows for p in row.predictions or ()]
    assert EVERY_KIND <= {key for label in labels for key in label} & EVERY_KIND
    assert EVERY_KIND <= {key for p in predictions for key in p} & EVERY_KIND
    assert any(label.get("classifications") for label in labels if label["name"] == "car")
    metrics = run.metrics(confidence=0.0, iou=0.5)
    found = {f.feature: f.tp for f in metrics.features}
    assert all(found.get(name, 0) > 0 for name in ("car", "person", "puddle", "wheel", "lane")), (
        found
    )
    assert {c.name for c in metrics.custom} == {"false_alarms", "jitter_px"}


def test_every_projection_is_ready(loaded: Loaded) -> None:
    spaces = {(run.name, projection.space) for run, projection in loaded.projections}
    assert spaces == {("logistic-regression", "pixels"), ("svm", "pixels"), ("svm", "svm-decision")}
    for run, projection in loaded.projections:
        again = run.projection(projection.id)
        assert (again.state, again.point_count, again.method) == ("READY", SIZE.digits, "PCA")


@pytest.mark.parametrize("dataset, size", [("digits", (64, 64)), ("scenes", (320, 240))])
def test_the_asset_files_are_readable(
    live: LiveServer, loaded: Loaded, dataset: str, size: tuple[int, int]
) -> None:
    first = next(getattr(loaded, dataset).data_rows(page_size=1))
    answer = live.reader.client.get(first.row_data)
    assert answer.status_code == 200
    assert Image.open(io.BytesIO(answer.content)).size == size == (first.width, first.height)


def test_the_command_loads_another_demo_beside_the_first(live: LiveServer, loaded: Loaded) -> None:
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--url",
            live.url,
            "--api-key",
            live.write_key,
            "--digits",
            "200",
            "--scenes",
            "2",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"The server holds demo {loaded.number} already" in result.output
    assert f"dataset digits (demo {loaded.number + 1})" in result.output
    assert result.output.count(f"{live.url}/runs/") == 3
    assert Client(live.url, live.write_key).get_dataset(loaded.digits.id).row_count == SIZE.digits


def test_serve_loads_prints_the_key_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("POSTGRES_") and k != "XDG_RUNTIME_DIR"
    }
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "cli",
        "demo",
        "--serve",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
    ]
    options = ["--digits", "200", "--scenes", "2", "--no-progress"]
    proc = subprocess.Popen(
        [*command, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    try:
        # What it printed before it says it serves: the key is among those lines.
        lines = list(takewhile(lambda line: not line.startswith("Serving at"), proc.stdout))
        key = next(line.strip() for line in lines if line.startswith("mlk_"))
        with Client(f"http://127.0.0.1:{port}", key) as client:
            assert sorted(d.row_count for d in client.datasets()) == [2, 200]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Stopped." in out
