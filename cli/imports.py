"""`modelledger import`: COCO and NDJSON files into a running server, through the Python
client (docs/formats.md).

The client is imported inside each command: the server's own commands do not need it, and
an installation without it still serves. Errors a user can fix (a bad file, a refused line)
print one line each, naming the file and the line or the COCO object, and exit 1."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from cli.main import app

if TYPE_CHECKING:
    from modelledger_client import Client, Dataset
    from modelledger_client.formats.coco import Geometry, Instances

imports = typer.Typer(no_args_is_help=True, help="Import COCO and NDJSON files into a server.")
app.add_typer(imports, name="import")

Url = Annotated[
    str | None,
    typer.Option("--url", envvar="MODELLEDGER_URL", help="The server.", show_default=False),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key", envvar="MODELLEDGER_API_KEY", help="A read-write API key.", show_default=False
    ),
]
InputFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The file to read.")]
Annotations = Annotated[
    Path,
    typer.Option("--annotations", exists=True, dir_okay=False, help="A COCO instances JSON file."),
]


def connect(url: str | None, api_key: str | None) -> Client:
    """A client of the server; without the client package installed, a user error."""
    try:
        from modelledger_client import Client
    except ImportError:
        fail("this command needs the Python client: pip install ./clients/python")
    return Client(url, api_key)


def fail(message: str) -> NoReturn:
    """Prints one error line and ends the command with exit code 1."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def echo_json(document: dict[str, Any]) -> None:
    typer.echo(json.dumps(document))


@contextmanager
def reported(origin: Callable[[int], str] | None = None) -> Iterator[None]:
    """Turns the errors a user can fix into error lines and exit 1. A refused upload names
    each line by `origin` (the file's line, or the COCO object the line was made from)."""
    import httpx
    from modelledger_client import ModelLedgerError, ValidationError
    from modelledger_client.formats.coco import FormatError

    try:
        yield
    except ValidationError as exc:
        for error in exc.errors:
            where = origin(error.line) if origin is not None and error.line is not None else None
            typer.echo(
                f"error: {where}: {error.message}" if where else f"error: {error.message}", err=True
            )
        fail(exc.message if exc.errors else str(exc))
    except httpx.TransportError as exc:
        fail(f"the server could not be reached: {exc}")
    except (FormatError, ModelLedgerError, OSError) as exc:
        fail(str(exc))


def origins_of(names: list[str]) -> Callable[[int], str]:
    """Line n of an upload made from a list of objects is the object names[n - 1]."""
    return lambda line: names[line - 1] if 1 <= line <= len(names) else f"line {line}"


def upload_images(dataset: Dataset, instances: Instances, folder: Path) -> dict[str, str]:
    """Each image's file under `folder` stored as an asset of the dataset: the rowData of
    each file name."""
    from tqdm import tqdm

    row_data = {}
    for image in tqdm(instances.images, unit="images", desc="images"):
        path = folder / image["file_name"]
        if not path.is_file():
            fail(f"{instances.source}: image {image['id']!r}: {path} is not a file")
        row_data[image["file_name"]] = dataset.upload_asset(image["file_name"], path).row_data
    return row_data


@imports.command("coco")
def import_coco(
    annotations: Annotations,
    dataset_name: Annotated[str, typer.Option("--dataset", help="The name of the new dataset.")],
    images: Annotated[
        Path | None,
        typer.Option(
            exists=True, file_okay=False, help="Upload each image's file from here as an asset."
        ),
    ] = None,
    geometry: Annotated[
        str,
        typer.Option(
            help="bbox: BBOX tools from the boxes; segm: POLYGON tools from the segmentations."
        ),
    ] = "bbox",
    model_name: Annotated[
        str | None,
        typer.Option(
            "--model", help="Also create a model of this name (one feature per category) and a run."
        ),
    ] = None,
    run_name: Annotated[str, typer.Option(help="The name of the run made with --model.")] = "coco",
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """A new dataset (and model and run) from a COCO instances file.

    One data row per image, its annotations as labels; with --model, a model whose ontology
    has a feature per category and a run over the dataset whose config keeps the category
    ids. Prints the new ids as JSON."""
    from modelledger_client.formats import coco

    if geometry not in coco.GEOMETRIES:
        raise typer.BadParameter("must be bbox or segm", param_hint="--geometry")
    with reported():
        instances = coco.load_instances(annotations)
        client = connect(url, api_key)
        dataset = client.create_dataset(dataset_name)
        ids: dict[str, Any] = {"dataset": dataset.id}
        stored = upload_images(dataset, instances, images) if images is not None else {}
        lines = coco.data_row_lines(
            instances,
            geometry,
            lambda image: stored.get(image["file_name"]) or coco.default_row_data(image),
        )
    image_names = [f"{instances.source}: image {image['id']!r}" for image in instances.images]
    with reported(origins_of(image_names)):
        ids["rows"] = dataset.upsert_data_rows(lines).accepted
    if model_name is not None:
        with reported():
            model = client.create_model(model_name, coco.ontology(instances, geometry))
            run = model.create_model_run(run_name, dataset=dataset)
            run.update_config({**run.config, **coco.run_config(instances)})
            ids.update(model=model.id, run=run.id)
    echo_json(ids)


@imports.command("coco-results")
def import_coco_results(
    results: InputFile,
    annotations: Annotations,
    run_id: Annotated[
        str, typer.Option("--run", help="The run the detections are predictions of.")
    ],
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """COCO detections as a run's predictions.

    The score is the confidence; the instances file maps image ids to the rows' global keys
    and category ids to features. Each feature's tool decides the geometry: a box for BBOX,
    the segmentation for POLYGON and MASK."""
    from modelledger_client.formats import coco

    with reported():
        instances = coco.load_instances(annotations)
        detections = coco.load_results(results)
        client = connect(url, api_key)
        run = client.get_model_run(run_id)
        tools = {f.name: f.kind for f in client.get_model(run.model_id).features}
        geometry = {
            c.name: _geometry_of(tools, c.name, instances.source) for c in instances.categories
        }
        lines, origins = coco.prediction_lines(str(results), detections, instances, geometry)
    with reported(origins_of(origins)):
        uploaded = run.add_predictions(lines)
    echo_json({"run": run.id, "accepted": uploaded.accepted, "version": uploaded.version})


def _geometry_of(tools: dict[str, str], name: str, source: str) -> Geometry:
    """The geometry a category's detections take: the one its feature's tool holds."""
    from modelledger_client.formats.coco import FormatError

    kind = tools.get(name)
    if kind not in ("BBOX", "POLYGON", "MASK"):
        found = "not a feature of the run's model" if kind is None else f"a {kind} feature"
        raise FormatError(
            f"{source}: category {name!r} is {found}; it needs a BBOX, POLYGON or MASK tool"
        )
    return "bbox" if kind == "BBOX" else "segm"


@imports.command("ndjson")
def import_ndjson(
    path: InputFile,
    dataset_id: Annotated[
        str | None, typer.Option("--dataset", help="Add the file's data-row lines to this dataset.")
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Set the file's predictions of this run.")
    ] = None,
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """Data rows or predictions from an NDJSON file.

    The documented line formats: data rows (with their labels) into a dataset, or
    predictions into a run, in chunks. A refused line is named FILE:LINE."""
    if (dataset_id is None) == (run_id is None):
        raise typer.BadParameter(
            "give exactly one of --dataset and --run", param_hint="--dataset/--run"
        )
    with reported(lambda line: f"{path}:{line}"):
        client = connect(url, api_key)
        if dataset_id is not None:
            uploaded = client.get_dataset(dataset_id).upsert_data_rows(path)
        else:
            assert run_id is not None  # exactly one of the two, as checked above
            uploaded = client.get_model_run(run_id).add_predictions(path)
    echo_json({"accepted": uploaded.accepted, "version": uploaded.version})
