"""The broker: Redis when REDIS_URL is set, else an in-process one.

Every process calls `setup_broker` before it imports an actor module (workers.actors does
it first thing), so actors bind to the broker chosen here and not to dramatiq's default.
"""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

# A worker that died holding messages: Redis gives them to the others after this long. The
# sweeper re-enqueues stalled work anyway, so this only bounds the duplicate delay.
HEARTBEAT_TIMEOUT_MS = 30_000

_broker: dramatiq.Broker | None = None


def redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or None


def setup_broker() -> dramatiq.Broker:
    """The process's broker, set once (the first call decides)."""
    global _broker
    if _broker is not None:
        return _broker
    url = redis_url()
    broker: dramatiq.Broker
    if url:
        broker = RedisBroker(url=url, heartbeat_timeout=HEARTBEAT_TIMEOUT_MS)
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    # Lets an actor see its own message: how many retries it has had.
    broker.add_middleware(CurrentMessage())
    dramatiq.set_broker(broker)
    _broker = broker
    return broker


def in_process() -> bool:
    return isinstance(setup_broker(), StubBroker)
