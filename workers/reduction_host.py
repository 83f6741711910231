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
import mmap
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from multiprocessing.reduction import recv_handle, send_handle
from typing import Any

import numpy as np
from numpy.typing import NDArray

from domain.projector.reductions import Progress, ReductionParams, load_umap, reduce_vectors

# How often the waiting thread looks up from the pipe: when a time limit or a stop can act.
_POLL_SECONDS = 0.2
# The matrix goes to the child in an anonymous in-memory file whose descriptor is passed
# over the pipe (Linux): 200 MB (100,000 x 512) took 0.75-1.0 s through the pipe, pickled,
# and 0.28-0.30 s through shared memory, the child's first read of every value included.
# The file has no name, so nothing is left behind whichever process is killed. Elsewhere
# the matrix is pickled through the pipe.
_SHARED = hasattr(os, "memfd_create")


def _block_size(shape: tuple[int, ...]) -> int:
    return max(1, int(np.prod(shape)) * 4)  # float32; a mapping is never empty


def _send_matrix(
    conn: multiprocessing.connection.Connection, pid: int, matrix: NDArray[np.float32], params: ReductionParams
) -> None:
    if not _SHARED:
        conn.send(("pickled", matrix, params))
        return
    fd = os.memfd_create("projector-matrix", os.MFD_CLOEXEC)
    try:
        size = _block_size(matrix.shape)
        os.ftruncate(fd, size)
        with mmap.mmap(fd, size) as block:
            np.ndarray(matrix.shape, dtype=np.float32, buffer=block)[...] = matrix
        conn.send(("shared", matrix.shape, params))
        send_handle(conn, fd, pid)  # after the message: the child reads it first
    finally:
        os.close(fd)  # the child holds its own descriptor, or the job never reached it


def _received_matrix(conn: multiprocessing.connection.Connection, kind: str, payload: Any) -> tuple[NDArray[np.float32], mmap.mmap | None]:
    """The job's matrix, and the mapping it lives in (to close after) when shared."""
    if kind == "pickled":
        return payload, None
    fd = recv_handle(conn)
    try:
        block = mmap.mmap(fd, _block_size(payload))
    finally:
        os.close(fd)
    return np.ndarray(payload, dtype=np.float32, buffer=block), block


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (elsewhere: nothing to do)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _serve(conn: multiprocessing.connection.Connection) -> None:
    """The child: reduce what arrives until the pipe closes. It loads scikit-learn's PCA
    while it waits for its first job (1.9 s here), not when a projection asks for it. Once
    it has done a job, the projector is in use and a UMAP is likely next (the web app asks
    for PCA first): it loads umap-learn and its kernels then, in a thread of its own, so a
    first UMAP finds them loaded (umap-learn takes 1.1-1.3 s to import after scikit-learn,
    its kernels 0.2 s from numba's cache, and 130 MB; a process that never reduces does
    not pay them)."""
    _die_with_parent()
    import sklearn.decomposition  # noqa: F401 (loaded ahead of the first job)

    loader: threading.Thread | None = None

    while True:
        try:
            kind, payload, params = conn.recv()
        except EOFError:
            return
        matrix, block = _received_matrix(conn, kind, payload)

        def progress(fraction: float, stage: str) -> None:
            conn.send(("progress", fraction, stage))

        try:
            result = reduce_vectors(matrix, params, progress)
        except Exception as exc:  # noqa: BLE001 (reported to the parent, which records it)
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("done", result))
        del matrix, payload
        if block is not None:
            # A view may outlive the job (a traceback's): the mapping then goes with it.
            with contextlib.suppress(BufferError):
                block.close()
        if loader is None:
            loader = threading.Thread(target=load_umap, name="load-umap", daemon=True)
            loader.start()


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
            assert self._process is not None and self._process.pid is not None
            _send_matrix(conn, self._process.pid, matrix, params)
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
