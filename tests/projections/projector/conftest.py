from __future__ import annotations

from collections.abc import Iterator

import pytest

from runtime import Runtime
from tests.projections.projector.harness import ProjectorReadModels


@pytest.fixture
def projector(ledger: Runtime) -> Iterator[ProjectorReadModels]:
    read_models = ProjectorReadModels(ledger)
    try:
        yield read_models
    finally:
        read_models.close()
