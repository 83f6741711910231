"""API keys managed over GraphQL and the command line: created under a unique name, listed
without their secrets and with their last use, revoked (refused at once by the server that
revoked them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from storage.database import Database
from tests.server.live import LiveServer

CREATE = """
mutation($name: String!, $readOnly: Boolean!) {
  createApiKey(input: {name: $name, readOnly: $readOnly}) {
    __typename
    ... on CreateApiKeyPayload { secret apiKey { id name readOnly revoked createdBy } }
    ... on UserError { code message }
  }
}"""
REVOKE = """
mutation($id: ID!) {
  revokeApiKey(input: {keyId: $id}) {
    __typename ... on RevokeApiKeyPayload { apiKey { id revoked } } ... on UserError { code message }
  }
}"""
LIST = "{ apiKeys { id name readOnly revoked createdAt createdBy } }"
VIEWER = "{ viewer { name readOnly } }"


def created(live: LiveServer, name: str, read_only: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = live.writer.data(CREATE, name=name, readOnly=read_only)["createApiKey"]
    return answer


def test_create_list_and_revoke(live: LiveServer) -> None:
    made = created(live, "ci-bot", read_only=True)
    assert made["apiKey"] == {
        "id": made["apiKey"]["id"], "name": "ci-bot", "readOnly": True, "revoked": False, "createdBy": "writer",
    }  # fmt: skip
    bot = live.api(made["secret"])
    assert bot.data(VIEWER)["viewer"] == {"name": "ci-bot", "readOnly": True}

    listed = live.writer.data(LIST)["apiKeys"]
    assert [k["name"] for k in listed][-1] == "ci-bot" and {"writer", "reader"} <= {k["name"] for k in listed}
    assert all("secret" not in k for k in listed)

    revoked = live.writer.data(REVOKE, id=made["apiKey"]["id"])["revokeApiKey"]
    assert revoked["apiKey"] == {"id": made["apiKey"]["id"], "revoked": True}
    # Refused at once by this server (it forgets the key it trusted).
    assert bot.client.post("/graphql", json={"query": VIEWER}).status_code == 401
    again = live.writer.data(REVOKE, id=made["apiKey"]["id"])["revokeApiKey"]
    assert again["code"] == "VALIDATION" and "already revoked" in again["message"], again
    # A revoked key's name is free again.
    assert created(live, "ci-bot")["apiKey"]["name"] == "ci-bot"


def test_a_live_key_name_is_taken(live: LiveServer) -> None:
    created(live, "twice")
    refused = created(live, "twice")
    assert refused == {
        "__typename": "ValidationError", "code": "VALIDATION",
        "message": "an API key named 'twice' exists already: choose another name, or revoke that key first",
    }  # fmt: skip


def test_only_read_write_keys_manage_keys(live: LiveServer) -> None:
    answer = live.reader.graphql(LIST)
    assert answer["errors"][0]["message"] == "API key 'reader' is read-only; listing API keys needs a read-write key"
    refused = live.reader.data(CREATE, name="sneaky", readOnly=False)["createApiKey"]
    assert refused["code"] == "FORBIDDEN"
    assert live.writer.data(REVOKE, id="not-an-id")["revokeApiKey"]["code"] == "NOT_FOUND"


def test_the_command_line(live: LiveServer, module_database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in module_database.application_env().items():
        if key.startswith("POSTGRES_"):
            monkeypatch.setenv(key, value)
    runner = CliRunner()
    made = runner.invoke(cli, ["api-key", "create", "--name", "from the shell"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    assert live.api(secret).data(VIEWER)["viewer"]["name"] == "from the shell"
    taken = runner.invoke(cli, ["api-key", "create", "--name", "from the shell"])
    assert taken.exit_code == 1 and "exists already" in taken.output

    unused = runner.invoke(cli, ["api-key", "create", "--name", "never used"])
    assert unused.exit_code == 0, unused.output

    listed = runner.invoke(cli, ["api-key", "list"])
    assert listed.exit_code == 0, listed.output
    [line] = [line for line in listed.stdout.splitlines() if line.endswith("from the shell")]
    key_id = line.split()[0]
    assert "read-write" in line and "live" in line
    # Its last use is the request above, in UTC; the other key was never used.
    assert f"{datetime.now(UTC):%Y-%m-%d}" in line.split("live")[1]
    assert "never" in next(row for row in listed.stdout.splitlines() if row.endswith("never used"))

    revoked = runner.invoke(cli, ["api-key", "revoke", key_id])
    assert revoked.exit_code == 0 and "revoked" in revoked.output, revoked.output
    assert "revoked" in next(row for row in runner.invoke(cli, ["api-key", "list"]).stdout.splitlines() if key_id in row)
    assert runner.invoke(cli, ["api-key", "revoke", "nope"]).exit_code == 1


def test_the_list_shows_when_each_key_was_last_used(live: LiveServer) -> None:
    made = created(live, "last-use bot")
    listed = {k["name"]: k for k in live.writer.data("{ apiKeys { name lastUsedAt } }")["apiKeys"]}
    assert listed["last-use bot"]["lastUsedAt"] is None
    before = datetime.now(UTC) - timedelta(seconds=1)
    live.api(made["secret"]).data(VIEWER)
    listed = {k["name"]: k for k in live.writer.data("{ apiKeys { name lastUsedAt } }")["apiKeys"]}
    used = datetime.fromisoformat(listed["last-use bot"]["lastUsedAt"])
    assert before <= used <= datetime.now(UTC) + timedelta(seconds=1)
    assert listed["writer"]["lastUsedAt"] is not None  # the key asking
