"""`ModelRun.export`: the server's export route downloaded to disk, the same files the
command line writes, and the client's typed errors for what the route refuses."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest
from modelledger_client import AuthenticationError, Client, NotFoundError, ValidationError

from tests.server.live import LiveServer
from tests.server.test_exports import FORMATS, Seeded, cli_export, same_file, seed


@pytest.fixture(scope="module")
def seeded(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    with Client(live.url, live.write_key) as client:
        return seed(client, tmp_path_factory.mktemp("seed"))


@pytest.mark.parametrize("export_format", FORMATS)
def test_an_export_writes_the_files_of_the_command(
    live: LiveServer, reader: Client, seeded: Seeded, export_format: str, tmp_path: Path
) -> None:
    written = cli_export(live, seeded.run.id, export_format, tmp_path / "cli", "--iou", "0.6")
    run = reader.get_model_run(seeded.run.id)
    output = tmp_path / "client" / ("run.ndjson" if export_format == "ndjson" else "files")
    paths = run.export(export_format, output=output, iou=0.6)
    if export_format == "ndjson":
        assert paths == [output]
    else:
        assert [path.name for path in paths] == [Path(path).name for path in written["files"]]
        assert all(path.parent == output for path in paths)
    for path, expected in zip(paths, written["files"], strict=True):
        same_file(Path(expected), path.read_bytes())
    assert sorted(p.name for p in output.parent.iterdir()) == [output.name]


def test_a_run_at_a_version_exports_that_version(
    live: LiveServer, client: Client, seeded: Seeded, tmp_path: Path
) -> None:
    older = client.get_model_run(seeded.run.id).at(seeded.before_predictions)
    cli_export(live, seeded.run.id, "ndjson", tmp_path / "cli.ndjson", "--version", str(older.version))
    [path] = older.export(output=tmp_path / "old.ndjson")
    assert path.read_bytes() == (tmp_path / "cli.ndjson").read_bytes()
    assert '"predictions": []' in path.read_text()
    assert '"predictions": []' not in "".join(
        p.read_text() for p in client.get_model_run(seeded.run.id).export(output=tmp_path / "new.ndjson")
    )


def test_refusals_are_typed_errors(live: LiveServer, client: Client, seeded: Seeded, tmp_path: Path) -> None:
    run = client.get_model_run(seeded.run.id)
    with pytest.raises(ValidationError) as refused:
        run.export("xml", output=tmp_path / "x")
    assert refused.value.status == 400 and "format" in refused.value.errors[0].message
    with pytest.raises(ValidationError) as off_grid:
        run.export("csv", output=tmp_path / "x", confidence=0.55)
    assert "confidence 0.55" in str(off_grid.value)
    with pytest.raises(NotFoundError):
        dataclasses.replace(run, id=str(uuid.uuid4())).export(output=tmp_path / "gone.ndjson")
    with Client(live.url, "mlk_unknown") as stranger, pytest.raises(AuthenticationError):
        dataclasses.replace(run, session=stranger._session).export(output=tmp_path / "x.ndjson")
    # Nothing of a refused export is left: no file, no partial download.
    assert list(tmp_path.iterdir()) == []
