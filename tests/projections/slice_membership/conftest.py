from tests.workers.conftest import stack

__all__ = ["stack"]
