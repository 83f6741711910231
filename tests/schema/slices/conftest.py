from tests.server.live import live, module_database, server_settings

__all__ = ["live", "module_database", "server_settings"]
