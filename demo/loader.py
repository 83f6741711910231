"""Loading the demo into a server through the Python client, and waiting until the server
has computed everything the web app shows (metrics, projections)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from modelledger_client import Client, Dataset, ModelRun, Projection, RunMetrics

from demo import digits, scenes
from demo.images import png_bytes

# A name ends with the demo's number, so a second load sits beside the first one.
DEMO_NAME = re.compile(r"\(demo (\d+)\)$")
# Asset files go up a few at a time: each is small, so the round trips dominate.
ASSET_THREADS = 8
PROJECTION_POLL_SECONDS = 0.2
# Where the summary reads the runs' metrics on their test split: every prediction counts,
# and an object counts as found from IoU 0.5, the usual detection threshold.
GRID = {"confidence": 0.0, "iou": 0.5}
TEST_SPLIT = {"all": [{"split": ["TEST"]}]}


@dataclass(frozen=True)
class DemoSize:
    """How much to load: all digits by default (None), `scenes` street scenes."""

    digits: int | None = None
    scenes: int = 80
    seed: int = 0
    projection: str = "PCA"


@dataclass(frozen=True)
class LoadedRun:
    """A run once its metrics are IN_SYNC, with what the summary prints of it: where its
    gallery is, and how it does on rows it was not trained on."""

    run: ModelRun
    gallery: str
    test_metrics: RunMetrics


@dataclass(frozen=True)
class Loaded:
    """What one load created, once the server has computed its metrics and projections."""

    number: int
    digits: Dataset
    scenes: Dataset
    runs: list[LoadedRun]
    projections: list[tuple[ModelRun, Projection]]
    seconds: float

    def summary(self) -> Iterator[str]:
        """Lines to print: the ids to find things by, and the galleries to open first."""
        for dataset in (self.digits, self.scenes):
            yield f"dataset {dataset.name}: {dataset.id}, {dataset.row_count} rows"
        for loaded in self.runs:
            run, test = loaded.run, loaded.test_metrics.all
            yield (
                f"run {run.name}: {run.id}, {run.row_count} rows, metrics IN_SYNC, "
                f"test recall {_share(test.recall)}, precision {_share(test.precision)}"
            )
            yield f"    {loaded.gallery}"
        for run, projection in self.projections:
            yield (
                f"projection {projection.method} of {projection.space} in run {run.name}: {projection.id}, "
                f"{projection.state}, {projection.point_count} points"
            )
        yield f"loaded and computed in {self.seconds:.1f} s"


def load_demo(
    client: Client,
    size: DemoSize = DemoSize(),
    say: Callable[[str], None] = print,
    progress: bool = True,
) -> Loaded:
    """Upload the digits and the scenes, then wait for every run's metrics and projection."""
    started = time.monotonic()
    number = _next_number(client, say)
    say(f"Loading demo {number} into {client.url}")
    digit_runs, digit_set, projections = _load_digits(client, number, size, say, progress)
    scene_run, scene_set = _load_scenes(client, number, size, say, progress)
    say("Waiting for the server's metrics and projections")
    runs = [_computed(client, run, progress) for run in (*digit_runs, scene_run)]
    ready = [(run, _wait_for_projection(run, p)) for run, p in projections]
    return Loaded(
        number, digit_set.refresh(), scene_set.refresh(), runs, ready, time.monotonic() - started
    )


def _next_number(client: Client, say: Callable[[str], None]) -> int:
    """One more than the highest demo number among the server's datasets."""
    numbers = [int(m.group(1)) for d in client.datasets() if (m := DEMO_NAME.search(d.name))]
    if numbers:
        say(f"The server holds demo {max(numbers)} already; this load adds another beside it.")
    return max(numbers, default=0) + 1


def _load_digits(
    client: Client, number: int, size: DemoSize, say: Callable[[str], None], progress: bool
) -> tuple[list[ModelRun], Dataset, list[tuple[ModelRun, Projection]]]:
    data = digits.load(size.digits, size.seed)
    training = int(data.split_mask("TRAINING").sum())
    say(
        f"Digits: {len(data.targets)} scans; training the classifiers on the {training} training ones"
    )
    classifiers = digits.train(data)
    dataset = client.create_dataset(f"digits (demo {number})")
    images = {
        key: png_bytes(digits.image(p)) for key, p in zip(data.keys, data.pixels, strict=True)
    }
    dataset.upsert_data_rows(
        digits.data_rows(data, _upload_assets(dataset, images)), progress=progress
    )
    for space, vectors in digits.embeddings(data, classifiers).items():
        dataset.upload_embeddings(space, data.keys, vectors, progress=progress)
    model = client.create_model(f"digit classifier (demo {number})", digits.ONTOLOGY)
    runs, projections = [], []
    for classifier in classifiers:
        run = model.create_model_run(
            classifier.name, dataset=dataset, splits=digits.split_assignments(data)
        )
        run.add_predictions(digits.predictions(data, classifier), progress=progress)
        run.add_custom_metrics(digits.margins(data, classifier), progress=progress)
        spaces = [
            digits.PIXELS_SPACE,
            *([digits.DECISION_SPACE] if classifier.name == digits.SVM else []),
        ]
        projections.extend(
            (run, run.request_projection(space, method=size.projection)) for space in spaces
        )
        runs.append(run)
    return runs, dataset, projections


def _load_scenes(
    client: Client, number: int, size: DemoSize, say: Callable[[str], None], progress: bool
) -> tuple[ModelRun, Dataset]:
    say(f"Street scenes: rendering {size.scenes}")
    rendered = [scenes.render(i, size.seed) for i in range(size.scenes)]
    dataset = client.create_dataset(f"street scenes (demo {number})")
    row_data = _upload_assets(dataset, {s.key: png_bytes(s.image) for s in rendered})
    dataset.upsert_data_rows([s.row(row_data[s.key]) for s in rendered], progress=progress)
    model = client.create_model(f"street detector (demo {number})", scenes.ONTOLOGY)
    splits = {"train": 0.6, "validate": 0.2, "test": 0.2, "seed": size.seed}
    run = model.create_model_run("noisy-detector", dataset=dataset, splits=splits)
    run.add_predictions([line for s in rendered for line in s.predictions()], progress=progress)
    run.add_custom_metrics(
        [line for s in rendered for line in s.custom_metrics()], progress=progress
    )
    return run, dataset


def _upload_assets(dataset: Dataset, files: dict[str, bytes]) -> dict[str, str]:
    """Each file's rowData by its path in the dataset."""
    with ThreadPoolExecutor(ASSET_THREADS) as pool:
        stored = pool.map(lambda item: dataset.upload_asset(*item), files.items())
        return {path: asset.row_data for path, asset in zip(files, stored, strict=True)}


def _computed(client: Client, run: ModelRun, progress: bool) -> LoadedRun:
    run.wait_until_metrics_in_sync(timeout=300, progress=progress)
    return LoadedRun(
        run.refresh(),
        f"{client.url}/runs/{run.id}/gallery",
        run.metrics(**GRID, filter=TEST_SPLIT),
    )


def _wait_for_projection(
    run: ModelRun, projection: Projection, timeout: float = 300.0
) -> Projection:
    """The client has no wait for projections, so its state is read until it is READY."""
    deadline = time.monotonic() + timeout
    while projection.state != "READY":
        if projection.state == "FAILED":
            raise RuntimeError(
                f"projection {projection.id} of run {run.id} failed: {projection.error}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"projection {projection.id} of run {run.id} not READY after {timeout} s"
            )
        time.sleep(PROJECTION_POLL_SECONDS)
        projection = run.projection(projection.id)
    return projection


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
