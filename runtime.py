"""One running ModelLedger: the database, the command application and the read models.

The server and the command line open it the same way; tests open one per schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from application import ModelLedger
from projections import ReadModels, start_read_models
from storage.database import Database, preparing


@dataclass
class Runtime:
    database: Database
    app: ModelLedger
    read_models: ReadModels

    def close(self) -> None:
        self.read_models.stop()
        self.app.close()


def open_runtime(database: Database) -> Runtime:
    env = database.application_env()
    with preparing(database):  # tables are made at first use: by one process at a time
        app = ModelLedger(env=env)
        try:
            read_models = start_read_models(database, env)
        except BaseException:
            app.close()
            raise
    app.attach_rows(read_models.rows)
    return Runtime(database=database, app=app, read_models=read_models)
