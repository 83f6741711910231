"""Background work: the dramatiq broker, the chunk actor, the sweeper, in-process workers.

Import `workers.broker` (and call `setup_broker`) before any module that declares actors:
dramatiq binds an actor to the broker set when its module is imported.
"""
