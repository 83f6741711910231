from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage.database import Database
from tests.workers.stack import Stack, running_stack


@pytest.fixture
def stack(external_server: Database) -> Iterator[Stack]:
    with running_stack(external_server) as running:
        yield running
