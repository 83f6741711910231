"""Aggregates record every change as an event and keep only small state."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.api_keys import ApiKey, api_key_id, key_hash, new_secret
from domain.datasets import Dataset
from domain.errors import ValidationFailed
from domain.model_runs import ModelRun
from domain.models import Model
from domain.ontology import Ontology
from domain.run_config import CONFIG_TEMPLATE


def new_run() -> ModelRun:
    return ModelRun(id=uuid4(), model_id=uuid4(), name="run 1", upload_id=uuid4(), rows=10, source={}, actor="ana")


def test_a_new_run_is_version_one_with_the_config_template() -> None:
    run = new_run()
    assert run.version == 1
    assert run.config == CONFIG_TEMPLATE


def test_every_config_edit_is_a_version() -> None:
    run = new_run()
    for i in range(5):
        run.update_config({"epochs": i}, actor="ana")
    assert run.version == 6
    events = run.collect_events()
    assert [type(e).__name__ for e in events] == ["Created"] + ["ConfigUpdated"] * 5
    assert all(e.actor == "ana" for e in events)
    assert run.config == {"epochs": 4}


def test_a_bad_config_records_nothing() -> None:
    run = new_run()
    with pytest.raises(ValidationFailed):
        run.update_config({"lr": float("nan")}, actor="ana")
    assert run.version == 1


def test_copy_and_reset_config() -> None:
    source, run = new_run(), new_run()
    source.update_config({"optimizer": "sgd"}, actor="ana")
    run.copy_config(source, actor="bo")
    assert run.config == {"optimizer": "sgd"}
    run.reset_config(actor="bo")
    assert run.config == CONFIG_TEMPLATE


def test_metric_settings_change_is_recorded() -> None:
    run = new_run()
    run.change_metric_settings(actor="ana", confidence_thresholds=[0.5, 0.25])
    assert run.settings.confidence_thresholds == (0.25, 0.5)
    assert run.version == 2


def test_model_ontology_events_are_bounded_and_replay_to_the_same_ids() -> None:
    model = Model(name="detector", actor="ana")
    tools = [{"name": f"class-{i:05d}", "tool": "BBOX"} for i in range(10_000)]
    model.extend_ontology(tools=tools, classifications=[], actor="ana")
    events = model.collect_events()
    assert len(model.ontology.features) == 10_000
    extended = [e for e in events if type(e).__name__ == "OntologyExtended"]
    assert len(extended) > 1
    replayed = Ontology()
    for e in extended:
        replayed = Ontology.from_dicts([e.entries], base=replayed)
    assert replayed == model.ontology
    assert replayed.feature_named("class-09999").id == model.ontology.feature_named("class-09999").id


def test_dataset_metadata_fields_cannot_change_kind() -> None:
    from domain.data_rows import MetadataField, MetadataKind

    dataset = Dataset(name="street scenes", actor="ana")
    dataset.declare_metadata_fields([MetadataField("site", MetadataKind.STRING)], actor="ana")
    dataset.declare_metadata_fields([MetadataField("site", MetadataKind.STRING)], actor="ana")
    assert dataset.version == 2
    with pytest.raises(ValidationFailed, match="'site'"):
        dataset.declare_metadata_fields([MetadataField("site", MetadataKind.NUMBER)], actor="ana")


def test_names_are_checked() -> None:
    with pytest.raises(ValidationFailed, match="dataset name"):
        Dataset(name="  ", actor="ana")


def test_api_key_ids_derive_from_the_hash() -> None:
    secret = new_secret()
    key = ApiKey(name="ci", hashed=key_hash(secret), read_only=True, actor="admin")
    assert key.id == api_key_id(secret)
    assert secret not in repr(key.__dict__)


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    run = new_run()
    run.update_config({"epochs": 3, "flag": True}, actor="ana")
    run.change_metric_settings(actor="ana", iou_thresholds=[0.75, 0.5])
    run.collect_events()
    assert run.version == 3

    run.update_config({"flag": True, "epochs": 3}, actor="ana")  # the same object, keys reordered
    run.change_metric_settings(actor="ana")  # nothing given
    run.change_metric_settings(actor="ana", iou_thresholds=[0.5, 0.75], point_radius=70)  # what it is
    run.rename(" run 1 ", actor="ana")  # the name as stored
    source = new_run()
    source.update_config({"epochs": 3, "flag": True}, actor="bo")
    run.copy_config(source, actor="ana")
    assert run.version == 3 and run.collect_events() == []

    # JSON tells true from 1 and 1 from 1.0, though Python's == does not.
    run.update_config({"epochs": 3, "flag": 1}, actor="ana")
    run.update_config({"epochs": 3.0, "flag": 1}, actor="ana")
    run.reset_config(actor="ana")
    run.reset_config(actor="ana")
    assert [type(e).__name__ for e in run.collect_events()] == ["ConfigUpdated"] * 3
    assert run.version == 6


def test_renaming_to_the_same_name_records_nothing() -> None:
    dataset = Dataset(name="street scenes", actor="ana")
    dataset.rename("street scenes ", actor="ana")
    model = Model(name="detector", actor="ana")
    model.rename("detector", actor="ana")
    assert (dataset.version, model.version) == (1, 1)
    dataset.rename("streets", actor="ana")
    model.rename("detector v2", actor="ana")
    assert (dataset.name, dataset.version, model.name, model.version) == ("streets", 2, "detector v2", 2)
