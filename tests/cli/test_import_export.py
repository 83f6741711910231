"""`modelledger import` and `modelledger export` against a real server: COCO in both
geometry modes (rows, labels, crowd regions, areas, image assets), COCO results as
predictions whose metrics equal the offline evaluation, lossless round trips, the metric
tables, and errors that name the file and the line or object."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet
import pytest
from modelledger_client import Client, ModelRun
from modelledger_client.formats import coco
from PIL import Image
from typer.testing import CliRunner

from cli.main import app
from tests.cli.test_coco_files import random_instances, random_results, write_json

# The client's workflow tests' server settings: a media root for the image assets.
from tests.client.test_workflow import server_settings
from tests.server.live import LiveServer

__all__ = ["server_settings"]

runner = CliRunner()
GRID = (0.5, 0.5)


@dataclass
class Files:
    folder: Path
    instances: dict[str, Any]
    instances_path: Path
    images: Path

    def results(self, iou_type: str) -> Path:
        return self.folder / f"results_{iou_type}.json"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("coco")
    instances = random_instances(1, images=8)
    images = folder / "images"
    images.mkdir()
    for image in instances["images"]:
        Image.new("RGB", (image["width"], image["height"]), (image["id"] % 255, 9, 9)).save(
            images / image["file_name"]
        )
    for iou_type in ("bbox", "segm"):
        write_json(folder / f"results_{iou_type}.json", random_results(1, instances, iou_type))
    return Files(folder, instances, write_json(folder / "instances.json", instances), images)


def invoke(live: LiveServer, *args: str) -> Any:
    """Runs a command against the live server; its JSON output."""
    result = runner.invoke(app, [*args, "--url", live.url, "--api-key", live.write_key])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def failing(live: LiveServer, *args: str) -> str:
    """Runs a command that must fail as a user error: its error output."""
    result = runner.invoke(app, [*args, "--url", live.url, "--api-key", live.write_key])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    return result.stderr


@pytest.fixture(scope="module")
def client(live: LiveServer) -> Iterator[Client]:
    with Client(live.url, live.write_key) as opened:
        yield opened


def imported_run(
    live: LiveServer, client: Client, files: Files, geometry: str
) -> tuple[dict[str, Any], ModelRun]:
    """The COCO files imported in one geometry mode: dataset with image assets, model, run
    with the detections, metrics in sync."""
    ids = invoke(
        live, "import", "coco", "--annotations", str(files.instances_path), "--images", str(files.images),
        "--dataset", f"coco-{geometry}", "--geometry", geometry, "--model", f"detector-{geometry}",
    )  # fmt: skip
    answer = invoke(
        live, "import", "coco-results", str(files.results(geometry)), "--annotations", str(files.instances_path),
        "--run", ids["run"],
    )  # fmt: skip
    assert answer["accepted"] == len(json.loads(files.results(geometry).read_text()))
    run = client.get_model_run(ids["run"])
    run.wait_until_metrics_in_sync(timeout=120, progress=False)
    return ids, run


@pytest.fixture(scope="module")
def bbox_run(live: LiveServer, client: Client, files: Files) -> tuple[dict[str, Any], ModelRun]:
    return imported_run(live, client, files, "bbox")


@pytest.fixture(scope="module")
def segm_run(live: LiveServer, client: Client, files: Files) -> tuple[dict[str, Any], ModelRun]:
    return imported_run(live, client, files, "segm")


def labels_by_key(run: ModelRun) -> dict[str, tuple[Any, ...]]:
    return {row.global_key: row.labels for row in run.data_rows(page_size=500)}


def annotations_by_key(files: Files) -> dict[str, list[dict[str, Any]]]:
    names = {image["id"]: image["file_name"] for image in files.instances["images"]}
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in names.values()}
    for annotation in files.instances["annotations"]:
        found[names[annotation["image_id"]]].append(annotation)
    return found


# ----------------------------------------------------------------------------- import


def test_bbox_import_gives_a_row_per_image_and_a_box_label_per_annotation(
    files: Files, client: Client, bbox_run: tuple[dict[str, Any], ModelRun]
) -> None:
    ids, run = bbox_run
    assert ids["rows"] == len(files.instances["images"])
    assert client.get_dataset(ids["dataset"]).row_count == len(files.instances["images"])
    labels = labels_by_key(run)
    expected = annotations_by_key(files)
    assert {key: len(found) for key, found in labels.items()} == {
        key: len(a) for key, a in expected.items()
    }
    for key, expected_here in expected.items():
        for label, annotation in zip(labels[key], expected_here, strict=True):
            box = label["bbox"]
            assert [box["left"], box["top"], box["width"], box["height"]] == pytest.approx(
                annotation["bbox"]
            )
            assert label.get("iscrowd", False) == bool(annotation["iscrowd"])
            assert label["area"] == pytest.approx(annotation["area"])
    features = {f.name: f.kind for f in client.get_model(ids["model"]).features}
    assert features == {c["name"]: "BBOX" for c in files.instances["categories"]}


def test_segm_import_keeps_every_ring_crowd_masks_and_areas(
    files: Files, client: Client, segm_run: tuple[dict[str, Any], ModelRun]
) -> None:
    ids, run = segm_run
    labels = labels_by_key(run)
    crowds = 0
    for key, expected_here in annotations_by_key(files).items():
        assert len(labels[key]) == len(expected_here)
        for label, annotation in zip(labels[key], expected_here, strict=True):
            assert label["area"] == pytest.approx(annotation["area"])
            if annotation["iscrowd"]:
                crowds += 1
                assert label["iscrowd"] is True
                assert label["mask"]["rle"]["size"] == annotation["segmentation"]["size"]
            else:
                assert "iscrowd" not in label
                polygon = label["polygon"]
                # A single ring comes back as a plain list of points.
                rings = [polygon] if isinstance(polygon[0], dict) else polygon
                flat = [[v for p in ring for v in (p["x"], p["y"])] for ring in rings]
                assert flat == annotation["segmentation"]
    assert crowds > 0
    features = {f.name: f.kind for f in client.get_model(ids["model"]).features}
    assert set(features.values()) == {"POLYGON"}


def test_images_are_assets_readable_at_their_row_data(
    live: LiveServer, files: Files, client: Client, bbox_run: tuple[dict[str, Any], ModelRun]
) -> None:
    ids, _ = bbox_run
    rows = list(client.get_dataset(ids["dataset"]).data_rows())
    assert len(rows) == len(files.instances["images"])
    with httpx.Client(
        base_url=live.url, headers={"Authorization": f"Bearer {live.read_key}"}
    ) as http:
        for row in rows:
            assert row.row_data == f"/assets/{ids['dataset']}/{row.global_key}"
            answer = http.get(row.row_data)
            assert answer.status_code == 200
            assert answer.content == (files.images / row.global_key).read_bytes()
            assert row.metadata is not None and row.metadata["file_name"] == row.global_key


# ----------------------------------------------------------------------------- metrics


def offline_report(files: Files, geometry: str, tmp_path: Path) -> dict[str, Any]:
    """`modelledger evaluate --per-row` on the same COCO files converted to NDJSON."""
    instances = coco.load_instances(files.instances_path)
    truth, _ = coco.ground_truth_lines(instances, geometry)  # type: ignore[arg-type]
    detections = coco.load_results(files.results(geometry))
    shapes = dict.fromkeys(instances.names_by_category.values(), geometry)
    found, _ = coco.prediction_lines("results", detections, instances, shapes)  # type: ignore[arg-type]
    paths = []
    for name, lines in (("gt", truth), ("pred", found)):
        path = tmp_path / f"{name}.ndjson"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        paths.append(str(path))
    result = runner.invoke(
        app, ["evaluate", "--ground-truth", paths[0], "--predictions", paths[1], "--per-row"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def at_grid(report: dict[str, Any], values: list[list[Any]]) -> Any:
    return values[report["confidence_thresholds"].index(GRID[0])][
        report["iou_thresholds"].index(GRID[1])
    ]


@pytest.mark.parametrize("geometry", ["bbox", "segm"])
def test_server_metrics_equal_the_offline_evaluation(
    request: pytest.FixtureRequest, live: LiveServer, files: Files, geometry: str, tmp_path: Path
) -> None:
    _, run = request.getfixturevalue(f"{geometry}_run")
    report = offline_report(files, geometry, tmp_path)
    metrics = run.metrics(*GRID)
    server = {f.feature: (f.tp, f.fp, f.fn) for f in metrics.features}
    offline = {
        name: tuple(at_grid(report, found[k]) for k in ("tp", "fp", "fn"))
        for name, found in report["features"].items()
    }
    assert server == offline
    assert sum(tp for tp, _, _ in server.values()) > 0
    matrix = run.confusion_matrix(*GRID)
    server_cells = {
        (t, p): matrix.count(t, p)
        for t in matrix.labels
        for p in matrix.labels
        if matrix.count(t, p)
    }
    labels = report["confusion"]["labels"]
    grid = at_grid(report, report["confusion"]["matrices"])
    offline_cells = {
        (t, p): grid[i][j] for i, t in enumerate(labels) for j, p in enumerate(labels) if grid[i][j]
    }
    assert server_cells == offline_cells


def test_evaluate_format_coco_runs_on_the_imported_files(files: Files) -> None:
    result = runner.invoke(
        app, ["evaluate", "--format", "coco", "--ground-truth", str(files.instances_path),
              "--predictions", str(files.results("segm")), "--iou-type", "segm"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert 0 < json.loads(result.stdout)["AP50"] <= 1


# ----------------------------------------------------------------------------- export


def strip_annotation(annotation: dict[str, Any], geometry: str) -> dict[str, Any]:
    """What an import in `geometry` mode keeps of an annotation."""
    kept = {k: annotation[k] for k in ("id", "image_id", "category_id", "bbox", "area", "iscrowd")}
    if geometry == "segm":
        kept["segmentation"] = annotation["segmentation"]
    return kept


def by_id(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item["id"])


@pytest.mark.parametrize("geometry", ["bbox", "segm"])
def test_coco_export_and_reimport_are_lossless(
    request: pytest.FixtureRequest, live: LiveServer, files: Files, geometry: str, tmp_path: Path
) -> None:
    ids, _ = request.getfixturevalue(f"{geometry}_run")
    invoke(
        live, "export", "run", ids["run"], "--format", "coco", "--output", str(tmp_path / "first")
    )
    exported = json.loads((tmp_path / "first" / "instances.json").read_text())
    original = files.instances
    assert by_id(exported["images"]) == by_id(
        [
            {k: image[k] for k in ("id", "file_name", "width", "height")}
            for image in original["images"]
        ]
    )
    assert exported["categories"] == original["categories"]
    assert by_id(exported["annotations"]) == by_id(
        [strip_annotation(a, geometry) for a in original["annotations"]]
    )
    results = json.loads((tmp_path / "first" / "results.json").read_text())
    sent = json.loads(files.results(geometry).read_text())
    key = "bbox" if geometry == "bbox" else "segmentation"

    def detections(items: list[dict[str, Any]]) -> list[str]:
        return sorted(
            json.dumps([d["image_id"], d["category_id"], d["score"], d[key]]) for d in items
        )

    assert detections(results) == detections(sent)
    # Again through the server: the export of the re-import is the same file.
    again = invoke(
        live, "import", "coco", "--annotations", str(tmp_path / "first" / "instances.json"),
        "--dataset", f"again-{geometry}", "--geometry", geometry, "--model", f"again-{geometry}",
    )  # fmt: skip
    invoke(
        live,
        "export",
        "run",
        again["run"],
        "--format",
        "coco",
        "--output",
        str(tmp_path / "second"),
    )
    second = json.loads((tmp_path / "second" / "instances.json").read_text())
    assert by_id(second["annotations"]) == by_id(exported["annotations"])
    assert second["categories"] == exported["categories"]


def test_ndjson_export_has_every_row_and_reimports_losslessly(
    live: LiveServer, client: Client, segm_run: tuple[dict[str, Any], ModelRun], tmp_path: Path
) -> None:
    ids, run = segm_run
    output = tmp_path / "run.ndjson"
    invoke(live, "export", "run", ids["run"], "--format", "ndjson", "--output", str(output))
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    api_rows = {row.global_key: row for row in run.data_rows(page_size=500)}
    assert sorted(line["globalKey"] for line in lines) == sorted(api_rows)
    for line in lines:
        row = api_rows[line["globalKey"]]
        assert (line["id"], line["rowData"], line["split"]) == (row.id, row.row_data, row.split)
        assert line["labels"] == json.loads(json.dumps(row.labels))
        assert line["predictions"] == json.loads(json.dumps(row.predictions))
    # A row no prediction upload covered is not evaluated: its figures are null.
    evaluated = [line for line in lines if line["metrics"]["tp"] is not None]
    assert all(not line["predictions"] for line in lines if line not in evaluated)
    assert sum(line["metrics"]["tp"] for line in evaluated) == run.metrics(*GRID).all.tp
    assert sum(line["metrics"]["fn"] for line in evaluated) == run.metrics(*GRID).all.fn
    # The lines as data-row lines into a new dataset give the same rows back.
    dataset = client.create_dataset("reimported")
    rows = tmp_path / "rows.ndjson"
    kept = ("globalKey", "width", "height", "metadata", "labels")
    rows.write_text(
        "".join(
            json.dumps({**{k: line[k] for k in kept}, "rowData": "https://example.com/x"}) + "\n"
            for line in lines
        )
    )
    assert invoke(live, "import", "ndjson", "--dataset", dataset.id, str(rows))["accepted"] == len(
        lines
    )
    back = {row.global_key: row for row in dataset.data_rows()}
    for line in lines:
        assert list(back[line["globalKey"]].labels) == line["labels"]
        assert back[line["globalKey"]].metadata == line["metadata"]


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


@pytest.mark.parametrize("table_format", ["parquet", "csv"])
def test_metric_tables_hold_the_api_numbers(
    live: LiveServer,
    files: Files,
    bbox_run: tuple[dict[str, Any], ModelRun],
    table_format: str,
    tmp_path: Path,
) -> None:
    ids, run = bbox_run
    invoke(live, "export", "run", ids["run"], "--format", table_format, "--output", str(tmp_path))

    def table(name: str) -> list[dict[str, Any]]:
        if table_format == "parquet":
            return pyarrow.parquet.read_table(tmp_path / f"{name}.parquet").to_pylist()  # type: ignore[no-any-return]
        return read_csv(tmp_path / f"{name}.csv")

    def number(value: Any) -> float | None:
        return None if value in (None, "") else float(value)

    metrics = run.metrics(*GRID)
    features = {(row["feature"] or None): row for row in table("features")}
    for found in [*metrics.features, metrics.all]:
        row = features[found.feature]
        for column in ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou"):
            assert number(row[column]) == pytest.approx(getattr(found, column)), column
    matrix = run.confusion_matrix(*GRID)
    cells = {
        ((r["ground_truth"] or None), (r["prediction"] or None)): int(r["count"])
        for r in table("confusion")
    }
    assert cells == {(t, p): matrix.count(t, p) for t in matrix.labels for p in matrix.labels}
    per_row = table("data_rows")
    assert len(per_row) == run.row_count
    evaluated = [row for row in per_row if row["tp"] not in (None, "")]
    assert len(evaluated) == metrics.data_rows
    assert sum(int(row["tp"]) for row in evaluated) == metrics.all.tp
    assert sum(int(row["fp"]) for row in evaluated) == metrics.all.fp
    assert json.loads((tmp_path / "config.json").read_text()) == run.config


def test_per_row_counts_equal_the_offline_evaluation(
    live: LiveServer, files: Files, bbox_run: tuple[dict[str, Any], ModelRun], tmp_path: Path
) -> None:
    ids, _ = bbox_run
    invoke(
        live, "export", "run", ids["run"], "--format", "csv", "--output", str(tmp_path / "tables")
    )
    report = offline_report(files, "bbox", tmp_path)
    exported = {row["global_key"]: row for row in read_csv(tmp_path / "tables" / "data_rows.csv")}
    compared = 0
    for key, found in report["data_rows"].items():
        if exported[key]["tp"] == "":
            continue  # no detection for this image: the server did not evaluate the row
        compared += 1
        assert tuple(int(exported[key][k]) for k in ("tp", "fp", "fn", "tn")) == tuple(
            at_grid(report, found[k]) for k in ("tp", "fp", "fn", "tn")
        )
        offline_iou = at_grid(report, found["iou"])
        shown_iou = exported[key]["iou"]
        assert (shown_iou == "") if offline_iou is None else abs(float(shown_iou) - offline_iou) < 1e-9
    assert compared >= len(report["data_rows"]) // 2


def test_an_export_as_of_an_older_version_has_no_predictions(
    live: LiveServer, bbox_run: tuple[dict[str, Any], ModelRun], tmp_path: Path
) -> None:
    ids, run = bbox_run
    older = run.version - 1  # before the detections were uploaded
    output = tmp_path / "old.ndjson"
    answer = invoke(
        live, "export", "run", ids["run"], "--version", str(older), "--output", str(output)
    )
    assert answer["version"] == older
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(lines) == run.row_count
    assert all(not line["predictions"] for line in lines)
    assert any(line["labels"] for line in lines)


# ----------------------------------------------------------------------------- errors


def test_an_annotation_of_an_unknown_category_is_named(
    live: LiveServer, files: Files, tmp_path: Path
) -> None:
    document = json.loads(files.instances_path.read_text())
    document["annotations"][3]["category_id"] = 999
    bad = write_json(tmp_path / "bad.json", document)
    error = failing(live, "import", "coco", "--annotations", str(bad), "--dataset", "never")
    wrong = document["annotations"][3]["id"]
    assert f"{bad}: annotation {wrong}: category_id 999 is not a category of the file" in error


def test_a_refused_ndjson_line_is_named_by_file_and_line(
    live: LiveServer, client: Client, tmp_path: Path
) -> None:
    dataset = client.create_dataset("bad-lines")
    path = tmp_path / "rows.ndjson"
    path.write_text(
        '{"globalKey": "a", "rowData": "https://example.com/a"}\n'
        "\n"
        '{"globalKey": "b", "url": "https://example.com/b"}\n'
    )
    error = failing(live, "import", "ndjson", "--dataset", dataset.id, str(path))
    assert f"{path}:3: unknown key" in error
    assert dataset.refresh().row_count == 0


def test_a_refused_prediction_names_its_detection(
    live: LiveServer, files: Files, bbox_run: tuple[dict[str, Any], ModelRun], tmp_path: Path
) -> None:
    ids, _ = bbox_run
    detections = json.loads(files.results("bbox").read_text())
    detections[1]["score"] = 1.5  # outside [0, 1]: refused by the server
    path = write_json(tmp_path / "results.json", detections)
    error = failing(
        live,
        "import",
        "coco-results",
        str(path),
        "--annotations",
        str(files.instances_path),
        "--run",
        ids["run"],
    )
    assert f"{path}: detection 2 (image_id {detections[1]['image_id']}): confidence 1.5 of" in error
