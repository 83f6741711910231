"""A read model that meets an event it cannot apply stops loudly and heals by itself.

It is named on /ready with the event and the error; the write that recorded the event is
still answered as a success (it was recorded); a command that must read that read model is
refused with a retryable CONFLICT and records nothing; and once the fault is gone the read
model is started again (with backoff) and applies the very event it stopped at: nothing lost.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from projections.healing import delay_after
from tests.projections.builders import poison_catalog
from tests.server.live import LiveServer
from tests.server.operations import CREATE_DATASET, data_row_lines, payload

POISON = "stops the catalog"


@pytest.fixture
def fault(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """While set, the catalog cannot apply the creation of a dataset named POISON (as a
    defect would); clearing it is the fix. Patched on the class: a restarted runner's new
    projection meets the same fault."""
    return poison_catalog(monkeypatch, POISON, "injected fault: cannot apply this event")


def ready(live: LiveServer) -> httpx.Response:
    return httpx.get(f"{live.url}/ready", timeout=10)


def test_a_stopped_read_model_is_reported_refuses_commands_and_heals(live: LiveServer, fault: threading.Event) -> None:
    writer = live.writer
    created = payload(writer.data(CREATE_DATASET, name=POISON), "createDataset")  # recorded: a success
    dataset_id = created["dataset"]["id"]
    position = live.runtime.app.recorder.max_notification_id()

    deadline = time.monotonic() + 30
    while not (answer := ready(live)).json().get("stopped"):
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.05)
    assert answer.status_code == 503
    assert answer.json()["status"] == "read models stopped"
    [stopped] = answer.json()["stopped"]
    assert stopped["readModel"] == "catalog"
    assert stopped["notificationId"] == position
    assert stopped["topic"].endswith("Dataset.Created")
    assert "injected fault" in stopped["error"]

    # An upload validates against the catalog: refused, retryable, nothing recorded.
    response = writer.upload(f"/upload/datasets/{dataset_id}/data-rows", data_row_lines(2, "heal"))
    assert response.status_code == 409, response.text
    assert "catalog" in response.text and "send the request again" in response.text
    assert live.runtime.app.recorder.max_notification_id() == position

    # Still faulty: started again after its delay, it stops again on the same event.
    time.sleep(delay_after(0) + 1.5)
    answer = ready(live)
    assert answer.status_code == 503, answer.text
    assert answer.json()["stopped"][0]["notificationId"] == position
    assert answer.json()["stopped"][0]["restarts"] >= 1

    fault.clear()  # the fix
    deadline = time.monotonic() + 60
    while (answer := ready(live)).status_code != 200:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.1)
    found = writer.data("query($id: ID!) { dataset(id: $id) { name } }", id=dataset_id)["dataset"]
    assert found == {"name": POISON}
    response = writer.upload(f"/upload/datasets/{dataset_id}/data-rows", data_row_lines(2, "heal"))
    assert response.status_code == 200, response.text
