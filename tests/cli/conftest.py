"""The command-line tests against a real server use the API tests' live fixture."""

from tests.server.live import live, module_database, server_settings

__all__ = ["live", "module_database", "server_settings"]
