"""A child process that reduces embedding vectors, for the projector's chunk handler.

Compiled code (numba, BLAS) does not return to Python for minutes, so a time limit could
interrupt a reduction in the worker's own thread only after it had finished; waiting on a
child instead, the limit lands at once and the child is killed. The child stays up between
reductions, so umap-learn compiles once per worker, not once per request, and it dies with
its worker (a kill -9 of the worker leaves no orphan computing on). This module imports
little, as the child imports it to start.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import signal
import sys
import threading

import numpy as np
from numpy.typing import NDArray

from domain.projector.reductions import Progress, ReductionParams, reduce_vectors

# How often the waiting thread looks up from the pipe: when a time limit or a stop can act.
_POLL_SECONDS = 0.2


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (elsewhere: nothing to do)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _serve(conn: multiprocessing.connection.Connection) -> None:
    """The child: reduce what arrives until the pipe closes. It loads scikit-learn's PCA
    while it waits for its first job (1.9 s here), not when a projection asks for it."""
    _die_with_parent()
    import sklearn.decomposition  # noqa: F401 (loaded ahead of the first job)

    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        matrix, params = job

        def progress(fraction: float, stage: str) -> None:
            conn.send(("progress", fraction, stage))

        try:
            result = reduce_vectors(matrix, params, progress)
        except Exception as exc:  # noqa: BLE001 (reported to the parent, which records it)
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("done", result))
        del matrix, job


class ReductionDied(RuntimeError):
    pass


class ReductionHost:
    """One child process that reduces one matrix at a time."""

    def __init__(self) -> None:
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: multiprocessing.connection.Connection | None = None

    def start(self) -> multiprocessing.connection.Connection:
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self.stop()
        # Spawned, not forked: the worker has threads (and maybe a BLAS pool) mid-flight.
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child,), name="projector-reduction", daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, parent
        return parent

    def reduce(self, matrix: NDArray[np.float32], params: ReductionParams, progress: Progress) -> NDArray[np.float32]:
        conn = self.start()
        try:
            conn.send((matrix, params))
            while True:
                if not conn.poll(_POLL_SECONDS):
                    assert self._process is not None
                    if not self._process.is_alive():
                        raise ReductionDied(f"the reduction process ended (exit code {self._process.exitcode})")
                    continue
                message = conn.recv()
                if message[0] == "progress":
                    progress(message[1], message[2])
                elif message[0] == "error":
                    raise RuntimeError(message[1])
                else:
                    return np.asarray(message[1], dtype=np.float32)
        except RuntimeError:
            raise
        except BaseException:
            # Interrupted (a time limit, a stop) or the pipe broke: the child may be mid-way
            # through a job nobody will read. Kill it; the next reduction starts a fresh one.
            self.stop()
            raise

    def stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._process, self._conn = None, None


class ReductionHosts:
    """Idle hosts for the worker threads: a thread takes one, or starts one if none is idle."""

    def __init__(self) -> None:
        self._idle: list[ReductionHost] = []
        self._lock = threading.Lock()

    def prestart(self) -> None:
        """Have one idle host started ahead of the first reduction (a worker does this as it
        starts): starting a child and loading what it needs took 3.2 s of a first PCA."""
        with self._lock:
            if self._idle:
                return
            host = ReductionHost()
            host.start()  # returns once spawned; the child loads on its own
            self._idle.append(host)

    def reduce(self, matrix: NDArray[np.float32], params: ReductionParams, progress: Progress) -> NDArray[np.float32]:
        with self._lock:
            host = self._idle.pop() if self._idle else ReductionHost()
        try:
            result = host.reduce(matrix, params, progress)
        except BaseException:
            host.stop()
            raise
        with self._lock:
            self._idle.append(host)
        return result

    def stop(self) -> None:
        with self._lock:
            hosts, self._idle = self._idle, []
        for host in hosts:
            host.stop()


HOSTS = ReductionHosts()
