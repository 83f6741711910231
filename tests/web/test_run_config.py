"""A run's config in the model directory, in real Chromium against a live server: shown
read-only, edited (with the editor's own check and the API's error shown), reset to the
template, copied from the other run of the model, and downloaded as a .json file.

The tests run in order on one page, as a user would; every config the page shows is checked
against what the API answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.server.live import LiveServer
from tests.server.operations import UPDATE_CONFIG
from tests.web.conftest import BrowserWatch
from tests.web.seed import SeededRun

RUNS = "query($id: ID!) { model(id: $id) { modelRuns { nodes { id name version config configJson } } } }"
TEMPLATE = "{ modelRunConfigTemplate }"
LAST_EVENT = """query($id: ID!) { modelRun(id: $id) { version history(first: 100) { nodes { version type summary } } } }"""
EDITED = {"learning_rate": 0.01, "optimizer": "adam", "epochs": 12, "pretrained": True}
OTHER = {"backbone": "resnet50", "seed": 7, "dropout": 0.25}


def runs(live: LiveServer, model_id: str) -> dict[str, dict[str, Any]]:
    nodes = live.reader.data(RUNS, id=model_id)["model"]["modelRuns"]["nodes"]
    return {n["name"]: n for n in nodes}


def panel(page: Any, run_id: str) -> Any:
    """The run's config panel, opened if it is not."""
    opened = page.locator(f'[data-testid="run-config"][data-run-id="{run_id}"]')
    if not opened.count():
        page.locator(f'[data-testid="run-row"][data-run-id="{run_id}"]').get_by_test_id("run-config-toggle").click()
    opened.get_by_test_id("run-config-json").wait_for()
    return opened


def shown(config_panel: Any) -> Any:
    return json.loads(config_panel.get_by_test_id("run-config-json").inner_text())


def wait_shown(page: Any, run_id: str, expected: dict[str, Any]) -> None:
    page.wait_for_function(
        "([id, want]) => { const p = document.querySelector(`[data-testid=\"run-config\"][data-run-id=\"${id}\"] [data-testid=\"run-config-json\"]`);"
        " if (!p) return false; try { return JSON.stringify(Object.entries(JSON.parse(p.textContent)).sort())"
        " === JSON.stringify(Object.entries(want).sort()) } catch { return false } }",
        arg=[run_id, expected],
    )


def sign_in(page: Any, key: str) -> None:
    page.goto("/")
    # The stored key is checked again on load, the sign-in form showing meanwhile with its
    # button disabled: wait for the app to decide (signed in, or the form enabled).
    page.locator('[data-testid="sign-out"], [data-testid="api-key-submit"]:not([disabled])').first.wait_for()
    if page.get_by_test_id("sign-out").count():
        page.get_by_test_id("sign-out").click()
    page.get_by_test_id("api-key-input").fill(key)
    page.get_by_test_id("api-key-submit").click()
    page.get_by_test_id("viewer-name").wait_for()


def test_a_run_s_config_is_shown_read_only_until_edit(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    sign_in(page, live.write_key)
    page.goto(f"/models/{seeded.model_id}")
    config = panel(page, seeded.run_id)
    template = live.reader.data(TEMPLATE)["modelRunConfigTemplate"]
    assert shown(config) == runs(live, seeded.model_id)["baseline"]["config"] == template
    # Read-only by default: no editor until Edit is clicked.
    assert config.get_by_test_id("run-config-editor").count() == 0
    assert config.locator("pre").get_attribute("contenteditable") is None


def test_editing_checks_the_json_saves_it_and_a_reload_shows_it(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    config = panel(page, seeded.run_id)
    version = runs(live, seeded.model_id)["baseline"]["version"]
    config.get_by_test_id("run-config-edit").click()
    editor = config.get_by_test_id("run-config-editor")
    assert json.loads(editor.input_value()) == live.reader.data(TEMPLATE)["modelRunConfigTemplate"]
    # Text that is not a flat JSON object is refused before anything is sent.
    editor.fill('{"epochs": 12,')
    assert config.get_by_test_id("run-config-invalid").inner_text().startswith("Not valid JSON")
    assert config.get_by_test_id("run-config-save").is_disabled()
    editor.fill('{"layers": [64, 32]}')
    assert '"layers"' in config.get_by_test_id("run-config-invalid").inner_text()
    assert config.get_by_test_id("run-config-save").is_disabled()
    editor.fill(json.dumps(EDITED))
    assert config.get_by_test_id("run-config-invalid").count() == 0
    config.get_by_test_id("run-config-save").click()
    wait_shown(page, seeded.run_id, EDITED)
    after = runs(live, seeded.model_id)["baseline"]
    assert after["config"] == EDITED and after["version"] == version + 1
    assert config.get_by_test_id("run-config-editor").count() == 0

    page.reload()
    config = panel(page, seeded.run_id)
    assert shown(config) == EDITED


def test_a_save_the_api_refuses_shows_the_api_s_message(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    config = panel(page, seeded.run_id)
    base = runs(live, seeded.model_id)["baseline"]["version"]
    config.get_by_test_id("run-config-edit").click()
    # Someone else changes the config meanwhile: the page's edit is based on an older version.
    changed = live.writer.data(UPDATE_CONFIG, runId=seeded.run_id, config={**EDITED, "epochs": 13})
    assert changed["updateModelRunConfig"]["__typename"] == "UpdateModelRunConfigPayload"
    config.get_by_test_id("run-config-editor").fill(json.dumps({**EDITED, "epochs": 20}))
    config.get_by_test_id("run-config-save").click()
    problem = config.get_by_test_id("run-config-error")
    problem.wait_for()
    answer = live.writer.graphql(
        "mutation($id: ID!, $v: Int) { updateModelRunConfig(input: {runId: $id, config: {}, expectedVersion: $v})"
        " { ... on UserError { code message } } }",
        id=seeded.run_id, v=base,
    )["data"]["updateModelRunConfig"]
    assert answer["code"] == "CONFLICT" and problem.inner_text() == answer["message"]
    assert runs(live, seeded.model_id)["baseline"]["config"]["epochs"] == 13  # nothing overwritten
    config.get_by_test_id("run-config-cancel").click()
    wait_shown(page, seeded.run_id, {**EDITED, "epochs": 13})


def test_copying_loads_the_other_run_s_config_and_saves_it_as_a_copy(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    other = runs(live, seeded.model_id)["night-augmented"]
    live.writer.data(UPDATE_CONFIG, runId=other["id"], config=OTHER)
    config = panel(page, seeded.run_id)
    config.get_by_test_id("run-config-copy-source").select_option(label="night-augmented")
    editor = config.get_by_test_id("run-config-editor")
    editor.wait_for()
    assert json.loads(editor.input_value()) == OTHER
    assert "night-augmented" in config.get_by_test_id("run-config-source").inner_text()
    assert "copies" in config.get_by_test_id("run-config-source").inner_text()
    config.get_by_test_id("run-config-save").click()
    wait_shown(page, seeded.run_id, OTHER)
    assert runs(live, seeded.model_id)["baseline"]["config"] == OTHER
    # Recorded as a copy of that run, not as an edit.
    events = live.reader.data(LAST_EVENT, id=seeded.run_id)["modelRun"]["history"]["nodes"]
    assert events[-1]["type"] == "ConfigUpdated"
    assert other["id"] in json.dumps(events[-1]["summary"])


def test_the_download_is_the_run_s_config(page: Any, live: LiveServer, seeded: SeededRun, tmp_path: Path) -> None:
    config = panel(page, seeded.run_id)
    with page.expect_download() as started:
        config.get_by_test_id("run-config-download").click()
    download = started.value
    assert download.suggested_filename == "baseline-config.json"
    target = tmp_path / download.suggested_filename
    download.save_as(str(target))
    baseline = runs(live, seeded.model_id)["baseline"]
    assert target.read_text() == baseline["configJson"]
    assert json.loads(target.read_text()) == baseline["config"] == OTHER


def test_reset_sets_the_template(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    config = panel(page, seeded.run_id)
    page.once("dialog", lambda dialog: dialog.accept())
    config.get_by_test_id("run-config-reset").click()
    template = live.reader.data(TEMPLATE)["modelRunConfigTemplate"]
    wait_shown(page, seeded.run_id, template)
    assert runs(live, seeded.model_id)["baseline"]["config"] == template
    events = live.reader.data(LAST_EVENT, id=seeded.run_id)["modelRun"]["history"]["nodes"]
    assert "reset" in json.dumps(events[-1]["summary"])


def test_a_read_only_key_sees_the_config_and_downloads_it_only(page: Any, live: LiveServer, seeded: SeededRun, tmp_path: Path) -> None:
    sign_in(page, live.read_key)
    assert "read-only" in page.get_by_test_id("viewer-name").inner_text()
    other = runs(live, seeded.model_id)["night-augmented"]
    # In the directory at /, as on the model's page.
    page.locator(f'[data-testid="run-row"][data-run-id="{other["id"]}"]').wait_for()
    config = panel(page, other["id"])
    assert shown(config) == OTHER
    for hook in ("run-config-edit", "run-config-reset", "run-config-copy-source", "run-config-editor"):
        assert config.get_by_test_id(hook).count() == 0, hook
    with page.expect_download() as started:
        config.get_by_test_id("run-config-download").click()
    target = tmp_path / "night.json"
    started.value.save_as(str(target))
    assert started.value.suggested_filename == "night-augmented-config.json"
    assert json.loads(target.read_text()) == OTHER


def test_no_console_errors_and_no_request_to_another_host(watch: BrowserWatch) -> None:
    assert watch.console_errors == []
    assert watch.foreign_requests == []
