"""The whole path a user takes: dataset, model, run, chunked uploads from files, waiting
for the metrics, and reading them back against numbers counted by hand (scene.py)."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from modelledger_client import Client, Dataset, Model, ModelRun, UploadResult

from routes.assets import AssetSettings
from server import Settings
from tests.client import scene
from tests.client.conftest import CHUNK, RETRY
from tests.server.live import LiveServer

HAS_PANDAS = importlib.util.find_spec("pandas") is not None


@pytest.fixture(scope="module")
def server_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Asset files need a media root, which an external database does not get by default."""
    return Settings(assets=AssetSettings(media_root=tmp_path_factory.mktemp("media")))


@dataclass
class Scene:
    client: Client
    dataset: Dataset
    model: Model
    run: ModelRun
    rows: UploadResult
    predictions: UploadResult


@pytest.fixture(scope="module")
def built(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    folder = tmp_path_factory.mktemp("files")
    with Client(live.url, live.write_key, chunk_size=CHUNK, retry=RETRY) as client:
        dataset = client.create_dataset("scene")
        rows = dataset.upsert_data_rows(scene.write_ndjson(folder / "rows.ndjson", scene.data_rows("s")), progress=False)
        model = client.create_model("detector", scene.ONTOLOGY)
        run = model.create_model_run("baseline", dataset=dataset, splits={"train": 0.5, "validate": 0.25, "test": 0.25, "seed": 3})
        predicted = run.add_predictions(scene.write_ndjson(folder / "predictions.ndjson", scene.predictions("s")), progress=False)
        run.wait_until_metrics_in_sync(timeout=120, progress=False)
        yield Scene(client, dataset, model, run, rows, predicted)


def test_a_file_goes_up_in_chunks(built: Scene) -> None:
    assert (built.rows.accepted, built.rows.requests) == (30, 3)
    assert (built.predictions.accepted, built.predictions.requests) == (30, 3)
    assert built.dataset.refresh().row_count == 30
    assert built.run.refresh().row_count == 30


def test_objects_are_found_again(built: Scene) -> None:
    client = built.client
    assert client.get_dataset(built.dataset.id).name == "scene"
    assert built.dataset.id in [d.id for d in client.datasets(page_size=1)]
    model = client.get_model(built.model.id)
    assert {f.name for f in model.features} >= {"car", "person", "weather/sunny"}
    assert built.model.id in [m.id for m in client.models()]
    assert [r.id for r in model.model_runs()] == [built.run.id]
    assert client.get_model_run(built.run.id).name == "baseline"


def test_metrics_at_two_grid_points(built: Scene) -> None:
    metrics = built.run.metrics(confidence=0.5, iou=0.5)
    car = next(f for f in metrics.features if f.feature == "car")
    person = next(f for f in metrics.features if f.feature == "person")
    assert (car.tp, car.fp, car.fn, car.annotations, car.predictions) == (20, 5, 10, 30, 25)
    assert car.precision == pytest.approx(20 / 25)
    assert car.recall == pytest.approx(20 / 30)
    assert car.f1 == pytest.approx(2 * 0.8 * (2 / 3) / (0.8 + 2 / 3))
    assert (person.tp, person.fp, person.fn, person.precision, person.recall) == (0, 5, 0, 0.0, None)
    assert (metrics.all.tp, metrics.all.fp, metrics.all.fn) == (20, 10, 10)
    assert metrics.data_rows == 30 and metrics.pending_data_rows == 0

    strict = built.run.metrics(confidence=0.9, iou=0.5)
    car = next(f for f in strict.features if f.feature == "car")
    assert (car.tp, car.fp, car.fn, car.precision) == (20, 0, 10, 1.0)


def test_metrics_of_a_filtered_part(built: Scene) -> None:
    chosen = {"all": [{"dataRows": {"globalKeys": [scene.key("s", 0), scene.key("s", 21), scene.key("s", 27)]}}]}
    metrics = built.run.metrics(0.5, 0.5, filter=chosen)
    assert metrics.data_rows == 3
    assert (metrics.all.tp, metrics.all.fp, metrics.all.fn) == (1, 2, 2)


def test_confusion_matrix(built: Scene) -> None:
    matrix = built.run.confusion_matrix(confidence=0.5, iou=0.5)
    assert matrix.labels[-1] is None
    assert matrix.count("car", "car") == 20
    assert matrix.count("car", "person") == 5
    assert matrix.count("car", None) == 5
    assert matrix.count(None, "car") == 5
    cell = next(c for c in matrix.cells if (c.ground_truth, c.prediction) == ("car", "person"))
    assert (cell.count, cell.data_rows) == (5, 5)
    assert built.run.metrics(0.5, 0.5, filter=cell.filter).data_rows == 5


def test_precision_recall_curve(built: Scene) -> None:
    curve = {round(p.confidence, 2): p for p in built.run.precision_recall_curve(iou=0.5, feature="car")}
    assert curve[0.0].precision == pytest.approx(0.8) and curve[0.0].recall == pytest.approx(2 / 3)
    assert curve[0.8].precision == pytest.approx(0.8)
    assert curve[0.9].precision == pytest.approx(1.0) and curve[0.9].recall == pytest.approx(2 / 3)
    assert curve[1.0].recall == pytest.approx(0.0)


def test_data_rows_are_paged_each_row_once(built: Scene) -> None:
    rows = list(built.run.data_rows(page_size=7))
    assert len(rows) == 30
    assert sorted(r.global_key for r in rows) == [scene.key("s", i) for i in range(30)]
    assert all(r.predictions and r.labels for r in rows)
    by_split = {
        split: [r.global_key for r in built.run.data_rows(filter={"all": [{"split": [split]}]}, page_size=4)]
        for split in ("TRAINING", "VALIDATION", "TEST", "UNASSIGNED")
    }
    assert sum(len(keys) for keys in by_split.values()) == 30
    assert {k for keys in by_split.values() for k in keys} == {r.global_key for r in rows}
    ordered = built.run.data_rows(sort=[{"field": "GLOBAL_KEY", "descending": True}], page_size=8)
    assert [r.global_key for r in ordered][:2] == [scene.key("s", 29), scene.key("s", 28)]


def test_custom_metrics(built: Scene) -> None:
    lines = [{"dataRow": {"globalKey": scene.key("s", i)}, "metricName": "blur", "metricValue": i / 10} for i in range(4)]
    assert built.run.add_custom_metrics(lines, progress=False).accepted == 4
    blur = next(c for c in built.run.metrics(0.5, 0.5).custom if c.name == "blur")
    assert blur.value == pytest.approx((0 + 0.1 + 0.2 + 0.3) / 4)
    assert blur.data_rows == 4


def test_config_history_diff_and_versions(built: Scene) -> None:
    run = built.run.refresh()
    first = run.update_config({"learning_rate": 0.001, "epochs": 10})
    assert built.run.config == {"learning_rate": 0.001, "epochs": 10}
    second = run.reset_config()
    assert second == first + 1 and built.run.config != {"learning_rate": 0.001, "epochs": 10}
    events = run.history(page_size=2)
    assert [e.version for e in events] == list(range(1, second + 1))
    assert events[first - 1].type == "ConfigUpdated" and events[first - 1].actor == "writer"
    diff = run.diff(first - 1, first)
    assert diff.config_after == {"learning_rate": 0.001, "epochs": 10}
    assert diff.rows_added == () and diff.labels_changed == ()
    assert run.at(first).config == {"learning_rate": 0.001, "epochs": 10}


def test_labels_and_metadata_updates_reach_a_run_on_upsert(built: Scene) -> None:
    relabel = [{"dataRow": {"globalKey": scene.key("s", i)}, "labels": []} for i in range(20, 25)]
    assert built.dataset.upsert_labels(relabel, progress=False).accepted == 5
    metadata = [{"dataRow": {"globalKey": scene.key("s", 0)}, "metadata": {"camera": "roof"}}]
    assert built.dataset.update_metadata(metadata, progress=False).accepted == 1
    second = built.model.create_model_run("relabelled", dataset=built.dataset)
    second.add_predictions(scene.predictions("s"), progress=False)
    second.wait_until_metrics_in_sync(timeout=120, progress=False)
    car = next(f for f in second.metrics(0.5, 0.5).features if f.feature == "car")
    # Rows 20-24 lost their car: the far-off predictions stay false positives, no car is missed there.
    assert (car.tp, car.fp, car.fn) == (20, 5, 5)
    version = second.upsert_rows(built.dataset, global_keys=[scene.key("s", 0)])
    assert version > second.version
    # Metadata belongs to the dataset: a run's gallery rows do not carry it.
    row = next(r for r in built.dataset.data_rows(page_size=9) if r.global_key == scene.key("s", 0))
    assert row.metadata == {"camera": "roof"}


def test_embeddings_and_a_projection(built: Scene) -> None:
    keys = [scene.key("s", i) for i in range(30)]
    vectors = [[float(i), float(i % 3), 1.0] for i in range(30)]
    assert built.dataset.upload_embeddings("tiny", keys, vectors, progress=False).requests == 3
    numpy = pytest.importorskip("numpy")
    wide = numpy.arange(60, dtype=float).reshape(30, 2) / 7  # rows travel as float32 in base64
    built.dataset.upload_embeddings("wide", keys, wide, progress=False)
    spaces = {s.name: s for s in built.dataset.embedding_spaces()}
    assert (spaces["tiny"].dimension, spaces["tiny"].vector_count) == (3, 30)
    assert (spaces["wide"].dimension, spaces["wide"].vector_count) == (2, 30)
    projection = built.run.request_projection("tiny", method="PCA")
    assert (projection.space, projection.method) == ("tiny", "PCA")
    assert built.run.projection(projection.id).id == projection.id


def test_an_asset_file(built: Scene, live: LiveServer, tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG not really" * 1000)
    stored = built.dataset.upload_asset("day 1/cat.png", image)
    assert stored.bytes == image.stat().st_size and stored.content_type == "image/png"
    assert stored.row_data == f"/assets/{built.dataset.id}/day%201/cat.png"
    served = httpx.get(live.url + stored.row_data, headers={"Authorization": f"Bearer {live.read_key}"})
    assert served.content == image.read_bytes()
    again = built.dataset.upload_asset("day 1/cat.png", b"replaced")
    assert again.bytes == len(b"replaced")


@pytest.mark.skipif(not HAS_PANDAS and not os.environ.get("CI"), reason="pandas is not installed here: to_pandas() is optional (CI installs it)")
def test_tables_become_data_frames(built: Scene) -> None:
    frame = built.run.metrics(0.5, 0.5).features.to_pandas()
    assert frame.set_index("feature").loc["car", "tp"] == 20
    matrix = built.run.confusion_matrix(0.5, 0.5).to_pandas()
    assert matrix.loc["car", "person"] == 5


def test_without_pandas_to_pandas_says_how_to_get_it(built: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # what `import pandas` meets when it is not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        built.run.metrics(0.5, 0.5).features.to_pandas()
