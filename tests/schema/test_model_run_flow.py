"""End to end through the API: dataset → rows → model → run → predictions → versions."""

from __future__ import annotations

from tests.server.live import Api, LiveServer
from tests.server.operations import (
    CREATE_DATASET,
    CREATE_MODEL,
    CREATE_RUN,
    HISTORY,
    ONTOLOGY,
    RUN,
    UPDATE_CONFIG,
    build_scenario,
    data_row_lines,
    payload,
    prediction_lines,
)

RUN_ROWS = """
query($id: ID!, $version: Int, $split: Split, $first: Int, $after: String) {
  modelRun(id: $id, version: $version) {
    version
    dataRows(split: $split, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id globalKey split covered labels predictions }
    }
  }
}"""

DIFF = """
query($id: ID!, $from: Int!, $to: Int!) {
  modelRun(id: $id) {
    diff(fromVersion: $from, toVersion: $to) {
      fromVersion toVersion rowsAdded rowsRemoved predictionsChanged labelsChanged
      splitsChanged { globalKey from to } configBefore configAfter
    }
  }
}"""


def test_dataset_rows_are_listed_with_their_catalog_fields(live: LiveServer) -> None:
    api = live.writer
    created = payload(api.data(CREATE_DATASET, name="catalog"), "createDataset")
    assert created["version"] == 1
    dataset_id = created["dataset"]["id"]
    answer = api.upload(f"/upload/datasets/{dataset_id}/data-rows", data_row_lines(3, "cat"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 3, "version": answer.json()["version"]}
    assert answer.json()["version"] >= 2

    data = api.data(
        """query($id: ID!) { dataset(id: $id) { name rowCount version
             dataRows(first: 2) { totalCount pageInfo { hasNextPage endCursor }
               nodes { globalKey rowData mediaType width height metadata labels } } } }""",
        id=dataset_id,
    )["dataset"]
    assert data["rowCount"] == 3
    assert data["dataRows"]["totalCount"] == 3
    first = data["dataRows"]["nodes"][0]
    assert first["globalKey"] == "cat-0"
    assert first["rowData"] == "https://assets.example/cat-0.jpg"
    assert first["mediaType"] == "IMAGE"
    assert first["metadata"] == {"camera": "rear"}
    assert first["labels"][0]["name"] == "car"
    assert data["dataRows"]["pageInfo"]["hasNextPage"] is True

    rest = api.data(
        """query($id: ID!, $after: String) { dataset(id: $id) { dataRows(after: $after) {
             pageInfo { hasNextPage } nodes { globalKey } } } }""",
        id=dataset_id,
        after=data["dataRows"]["pageInfo"]["endCursor"],
    )["dataset"]["dataRows"]
    assert [n["globalKey"] for n in rest["nodes"]] == ["cat-2"]
    assert rest["pageInfo"]["hasNextPage"] is False


def test_model_keeps_stable_feature_ids_when_extended(live: LiveServer) -> None:
    api = live.writer
    model = payload(api.data(CREATE_MODEL, name="detector", ontology=ONTOLOGY), "createModel")["model"]
    before = {f["name"]: f["id"] for f in model["ontology"]["features"]}
    assert set(before) == {"car", "person", "weather/sunny", "weather/rainy"}
    extended = api.data(
        """mutation($id: ID!) { extendOntology(input: {modelId: $id, ontology: {
             tools: [{name: "truck", tool: BBOX}],
             classifications: [{name: "weather", kind: RADIO, answers: ["foggy"]}]}}) {
           ... on ExtendOntologyPayload { version model { ontology { features { id name kind } } } } } }""",
        id=model["id"],
    )["extendOntology"]
    after = {f["name"]: f["id"] for f in extended["model"]["ontology"]["features"]}
    assert {k: after[k] for k in before} == before
    assert {"truck", "weather/foggy"} <= set(after)
    assert extended["version"] > 1


def test_a_run_reads_as_of_each_version_with_history_and_diff(live: LiveServer) -> None:
    api = live.writer
    scenario = build_scenario(api, rows=4, prefix="flow")
    run = api.data(RUN, id=scenario.run_id)["modelRun"]
    assert run["version"] == 1 and run["rowCount"] == 4
    assert run["config"]["learning_rate"] is None

    answer = api.upload(f"/upload/model-runs/{scenario.run_id}/predictions", prediction_lines(3, "flow"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 3, "version": 2}

    edited = payload(
        api.data(UPDATE_CONFIG, runId=scenario.run_id, config={"learning_rate": 0.01, "epochs": 3}, expectedVersion=2),
        "updateModelRunConfig",
    )
    assert edited["version"] == 3
    assert edited["modelRun"]["config"] == {"learning_rate": 0.01, "epochs": 3}

    # Reads right after the answers see the writes (the server waited for the read models).
    latest = api.data(RUN, id=scenario.run_id)["modelRun"]
    assert (latest["version"], latest["latestVersion"]) == (3, 3)
    assert '"learning_rate": 0.01' in latest["configJson"]
    at_one = api.data(RUN, id=scenario.run_id, version=1)["modelRun"]
    assert (at_one["version"], at_one["latestVersion"]) == (1, 3)
    assert at_one["config"]["learning_rate"] is None

    rows_v1 = api.data(RUN_ROWS, id=scenario.run_id, version=1)["modelRun"]["dataRows"]
    assert rows_v1["totalCount"] == 4
    assert not any(row["covered"] for row in rows_v1["nodes"])
    rows_v2 = api.data(RUN_ROWS, id=scenario.run_id, version=2)["modelRun"]["dataRows"]
    covered = {row["globalKey"]: row for row in rows_v2["nodes"] if row["covered"]}
    assert set(covered) == {"flow-0", "flow-1", "flow-2"}
    assert covered["flow-1"]["predictions"][0]["confidence"] == 0.9
    assert all(row["labels"][0]["name"] == "car" for row in rows_v2["nodes"])
    splits = {row["split"] for row in rows_v2["nodes"]}
    assert splits <= {"TRAINING", "VALIDATION", "TEST", "UNASSIGNED"}
    for split in splits:
        only = api.data(RUN_ROWS, id=scenario.run_id, split=split)["modelRun"]["dataRows"]["nodes"]
        assert only and {row["split"] for row in only} == {split}

    history = api.data(HISTORY, id=scenario.run_id)["modelRun"]["history"]
    assert history["totalCount"] == 3
    events = [edge["node"] for edge in history["edges"]]
    assert [e["version"] for e in events] == [1, 2, 3]
    assert [e["type"] for e in events][2] == "ConfigUpdated"
    assert {e["actor"] for e in events} == {"writer"}
    assert all(e["at"] for e in events)

    diff = api.data(DIFF, id=scenario.run_id, **{"from": 1, "to": 3})["modelRun"]["diff"]
    assert sorted(diff["predictionsChanged"]) == ["flow-0", "flow-1", "flow-2"]
    assert diff["rowsAdded"] == [] and diff["rowsRemoved"] == []
    assert diff["configBefore"]["learning_rate"] is None
    assert diff["configAfter"] == {"learning_rate": 0.01, "epochs": 3}


def test_run_rows_edits_are_versions(live: LiveServer) -> None:
    api = live.writer
    scenario = build_scenario(api, rows=3, prefix="edit")
    reassigned = api.data(
        """mutation($id: ID!) { reassignSplits(input: {runId: $id, expectedVersion: 1,
             assignments: [{dataRow: "edit-0", split: UNASSIGNED}, {dataRow: "edit-1", split: UNASSIGNED}]}) {
             __typename ... on ReassignSplitsPayload { version } } }""",
        id=scenario.run_id,
    )["reassignSplits"]
    assert reassigned["version"] == 2
    removed = api.data(
        """mutation($id: ID!) { removeModelRunRows(input: {runId: $id, dataRows: ["edit-2"]}) {
             ... on RemoveModelRunRowsPayload { version modelRun { rowCount } } } }""",
        id=scenario.run_id,
    )["removeModelRunRows"]
    assert removed == {"version": 3, "modelRun": {"rowCount": 2}}
    upserted = api.data(
        """mutation($id: ID!, $ds: ID!) { upsertModelRunRows(input: {runId: $id, datasetId: $ds,
             globalKeys: ["edit-2"]}) { ... on UpsertModelRunRowsPayload { version modelRun { rowCount } } } }""",
        id=scenario.run_id,
        ds=scenario.dataset_id,
    )["upsertModelRunRows"]
    assert upserted == {"version": 4, "modelRun": {"rowCount": 3}}
    diff = api.data(DIFF, id=scenario.run_id, **{"from": 1, "to": 3})["modelRun"]["diff"]
    assert diff["rowsRemoved"] == ["edit-2"]
    # The seeded ratios add up to 1, so no row started UNASSIGNED.
    assert {c["globalKey"]: c["to"] for c in diff["splitsChanged"]} == {"edit-0": "UNASSIGNED", "edit-1": "UNASSIGNED"}


def test_config_template_reset_copy_and_metric_settings(live: LiveServer) -> None:
    api = live.writer
    scenario = build_scenario(api, rows=2, prefix="cfg")
    template = api.data("{ modelRunConfigTemplate }")["modelRunConfigTemplate"]
    assert "learning_rate" in template and all(v is None for v in template.values())
    payload(api.data(UPDATE_CONFIG, runId=scenario.run_id, config={"optimizer": "adam"}), "updateModelRunConfig")
    other = payload(
        api.data(CREATE_RUN, input={"modelId": scenario.model_id, "name": "second", "datasetId": scenario.dataset_id}),
        "createModelRun",
    )["modelRun"]["id"]
    copied = api.data(
        """mutation($id: ID!, $src: ID!) { copyModelRunConfig(input: {runId: $id, sourceRunId: $src}) {
             ... on CopyModelRunConfigPayload { version modelRun { config } } } }""",
        id=other,
        src=scenario.run_id,
    )["copyModelRunConfig"]
    assert copied == {"version": 2, "modelRun": {"config": {"optimizer": "adam"}}}
    reset = api.data(
        """mutation($id: ID!) { resetModelRunConfig(input: {runId: $id, expectedVersion: 2}) {
             ... on ResetModelRunConfigPayload { version modelRun { config } } } }""",
        id=other,
    )["resetModelRunConfig"]
    assert reset["version"] == 3 and reset["modelRun"]["config"] == template
    settings = api.data(
        """mutation($id: ID!) { setMetricSettings(input: {runId: $id, iouThresholds: [0.5, 0.55, 0.6],
             pointRadius: 12}) { ... on SetMetricSettingsPayload { version
             modelRun { metricSettings { iouThresholds confidenceThresholds pointRadius } } } } }""",
        id=other,
    )["setMetricSettings"]
    assert settings["version"] == 4
    shown = settings["modelRun"]["metricSettings"]
    assert shown["iouThresholds"] == [0.5, 0.55, 0.6]
    assert len(shown["confidenceThresholds"]) == 11 and shown["pointRadius"] == 12


def test_node_finds_every_kind_and_lists_page(live: LiveServer) -> None:
    api = live.writer
    scenario = build_scenario(api, rows=1, prefix="node")
    query = "query($id: ID!) { node(id: $id) { __typename id } }"
    for object_id, kind in ((scenario.dataset_id, "Dataset"), (scenario.model_id, "Model"), (scenario.run_id, "ModelRun")):
        assert api.data(query, id=object_id)["node"] == {"__typename": kind, "id": object_id}
    assert api.data(query, id="not-an-id")["node"] is None
    assert api.data(query, id="00000000-0000-0000-0000-000000000000")["node"] is None

    runs = api.data(
        "query($id: ID!) { model(id: $id) { modelRuns { totalCount nodes { id model { id } } } } }", id=scenario.model_id
    )["model"]["modelRuns"]
    assert runs["totalCount"] == 1 and runs["nodes"][0]["model"]["id"] == scenario.model_id
    models = api.data("{ models(first: 1) { totalCount pageInfo { hasNextPage } edges { cursor node { id } } } }")
    assert models["models"]["totalCount"] >= 1 and len(models["models"]["edges"]) == 1


def test_renames_and_deletes(live: LiveServer) -> None:
    api = live.writer
    scenario = build_scenario(api, rows=1, prefix="del")
    renamed = api.data(
        """mutation($id: ID!) { renameModelRun(input: {runId: $id, name: "renamed"}) {
             ... on RenameModelRunPayload { modelRun { name } } } }""",
        id=scenario.run_id,
    )["renameModelRun"]
    assert renamed == {"modelRun": {"name": "renamed"}}
    deleted = api.data(
        """mutation($id: ID!) { deleteModelRun(input: {runId: $id}) {
             ... on DeleteModelRunPayload { version modelRun { deleted } } } }""",
        id=scenario.run_id,
    )["deleteModelRun"]
    assert deleted == {"version": 3, "modelRun": {"deleted": True}}
    assert api.data(RUN, id=scenario.run_id)["modelRun"] is None
    # Nothing is erased: the run as it was is still readable.
    assert api.data(RUN, id=scenario.run_id, version=2)["modelRun"]["name"] == "renamed"

    for mutation, field, object_id in (
        ("renameDataset(input: {datasetId: $id, name: \"new name\"})", "renameDataset", scenario.dataset_id),
        ("deleteDataset(input: {datasetId: $id})", "deleteDataset", scenario.dataset_id),
        ("renameModel(input: {modelId: $id, name: \"new name\"})", "renameModel", scenario.model_id),
        ("deleteModel(input: {modelId: $id})", "deleteModel", scenario.model_id),
    ):
        answer = api.data(f"mutation($id: ID!) {{ {mutation} {{ __typename ... on UserError {{ message }} }} }}", id=object_id)
        assert answer[field]["__typename"].endswith("Payload"), answer
    assert api.data("query($id: ID!) { dataset(id: $id) { id } }", id=scenario.dataset_id)["dataset"] is None
    assert api.data("query($id: ID!) { model(id: $id) { id } }", id=scenario.model_id)["model"] is None


UPSERT = """
mutation($id: ID!, $ds: ID!, $keys: [String!], $splits: SplitsInput) {
  upsertModelRunRows(input: {runId: $id, datasetId: $ds, globalKeys: $keys, splits: $splits}) {
    __typename ... on UpsertModelRunRowsPayload { version } ... on UserError { code message }
  }
}"""


def splits_of(api: Api, run_id: str, version: int | None = None) -> dict[str, str]:
    rows = api.data(RUN_ROWS, id=run_id, version=version)["modelRun"]["dataRows"]["nodes"]
    return {row["globalKey"]: row["split"] for row in rows}


def test_upserting_rows_keeps_their_splits_unless_new_ones_are_named(live: LiveServer) -> None:
    api = live.writer
    scenario = build_scenario(api, rows=4, prefix="keep")
    before = splits_of(api, scenario.run_id)
    assert "UNASSIGNED" not in before.values()  # the seeded ratios add up to 1

    # The run holds every row as the dataset has it: taking them again changes nothing.
    upserted = payload(api.data(UPSERT, id=scenario.run_id, ds=scenario.dataset_id), "upsertModelRunRows")
    assert upserted["version"] == 1
    assert splits_of(api, scenario.run_id) == before

    other = next(s for s in ("TRAINING", "VALIDATION", "TEST") if s != before["keep-0"])
    named = {"assignments": [{"dataRow": "keep-0", "split": other}]}
    upserted = payload(
        api.data(UPSERT, id=scenario.run_id, ds=scenario.dataset_id, keys=["keep-0", "keep-1"], splits=named),
        "upsertModelRunRows",
    )
    assert upserted["version"] == 2
    assert splits_of(api, scenario.run_id) == {**before, "keep-0": other}
    diff = api.data(DIFF, id=scenario.run_id, **{"from": 1, "to": 2})["modelRun"]["diff"]
    assert diff["splitsChanged"] == [{"globalKey": "keep-0", "from": before["keep-0"], "to": other}]


def test_a_mutation_that_changes_nothing_makes_no_version(live: LiveServer) -> None:
    api = live.writer
    scenario = build_scenario(api, rows=2, prefix="noop")
    splits = splits_of(api, scenario.run_id)
    payload(api.data(UPDATE_CONFIG, runId=scenario.run_id, config={"epochs": 3}), "updateModelRunConfig")
    for mutation, field in (
        ("setMetricSettings(input: {runId: $id})", "setMetricSettings"),
        ("setMetricSettings(input: {runId: $id, pointRadius: 70})", "setMetricSettings"),
        ('updateModelRunConfig(input: {runId: $id, config: {epochs: 3}, expectedVersion: 2})', "updateModelRunConfig"),
        ('renameModelRun(input: {runId: $id, name: "first run"})', "renameModelRun"),
        (
            'reassignSplits(input: {runId: $id, assignments: [{dataRow: "noop-1", split: '
            + splits["noop-1"]
            + "}]})",
            "reassignSplits",
        ),
    ):
        answer = api.data(
            f"mutation($id: ID!) {{ {mutation} {{ __typename ... on UserError {{ message }}"
            f" ... on {field[0].upper()}{field[1:]}Payload {{ version modelRun {{ version config }} }} }} }}",
            id=scenario.run_id,
        )[field]
        assert answer["__typename"].endswith("Payload"), answer
        assert answer["version"] == 2 and answer["modelRun"] == {"version": 2, "config": {"epochs": 3}}, mutation
    history = api.data(HISTORY, id=scenario.run_id)["modelRun"]["history"]
    assert history["totalCount"] == 2
    assert [edge["node"]["type"] for edge in history["edges"]] == ["Created", "ConfigUpdated"]


def test_a_diff_of_reversed_or_unknown_versions_is_a_validation_error(live: LiveServer) -> None:
    api = live.writer
    scenario = build_scenario(api, rows=1, prefix="diffs")
    payload(api.data(UPDATE_CONFIG, runId=scenario.run_id, config={"epochs": 1}), "updateModelRunConfig")
    for versions, message in (
        ((2, 1), "fromVersion 2 is after toVersion 1"),
        ((1, 7), "toVersion 7 is beyond the run's current version 2"),
        ((0, 1), "fromVersion 0 is below 1"),
    ):
        answer = live.reader.graphql(DIFF, id=scenario.run_id, **{"from": versions[0], "to": versions[1]})
        assert answer["data"] is None or answer["data"]["modelRun"] is None
        assert message in answer["errors"][0]["message"] and "1 to 2" in answer["errors"][0]["message"]
        assert answer["errors"][0]["path"] == ["modelRun", "diff"]
    same = api.data(DIFF, id=scenario.run_id, **{"from": 2, "to": 2})["modelRun"]["diff"]
    assert (same["fromVersion"], same["toVersion"], same["splitsChanged"]) == (2, 2, [])
