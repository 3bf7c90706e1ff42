"""The one executor of every study: in this process, in local processes, or on Dask.

A study hands over its tasks (sweep points, groups of the game, searches, batches of
Monte Carlo draws: anything with an ``index``) and ``settings`` whose
``make_solver(case)`` makes the solver that runs them (``solver.run(task)`` returns the
task's outcome). Each worker process keeps one solver per study, so its tasks share a
persistent model. Local workers are spawned, ignore Ctrl-C (the parent's to handle) and end
with their parent. The order outcomes arrive in never changes an answer, and a solver's
answer to a task never depends on the tasks it ran before (its re-solver starts each solve
afresh: :mod:`solver.studies.engine.resolver`), so the same seed gives the same answer, bit
for bit, on every executor. The functions sent to worker processes live here,
importable by module path (a spawned process or a Dask worker imports them, never
``__main__``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from solver.case.loader import Case

_WORKERS: dict[str, Any] = {}
_WORKER_LOCK = threading.Lock()
_WORKER_BASE: tuple[str, Case, Any] | None = None


def new_solver(case: Case, settings: Any) -> Any:
    """The solver of a study's tasks: ``settings.make_solver(case)``."""
    return settings.make_solver(case)


def execute(base: Case, settings: Any, tasks: Sequence[Any], *, workers: int = 1,
            client: Any = None, here: Any = None) -> Iterator[Any]:
    """Each task's outcome as it finishes, wherever the study asked for it to run.

    On the Dask cluster of ``client`` (closed when the tasks are done), in ``workers``
    spawned local processes, or, with one worker or one task, in this process, on ``here``
    (a solver the study built already) or a new solver.
    """
    import uuid

    token = uuid.uuid4().hex
    if client is not None:
        return on_dask(base, settings, token, tasks, client)
    if workers <= 1 or len(tasks) <= 1:
        return in_this_process(base, settings, tasks, here)
    return in_local_processes(base, settings, token, tasks, workers)


def _solver_for(token: str, case: Case, settings: Any) -> Any:
    solver = _WORKERS.get(token)
    if solver is None:
        _WORKERS.clear()
        solver = _WORKERS[token] = new_solver(case, settings)
    return solver


def _init_process(token: str, case: Case, settings: Any) -> None:
    """Start a local worker process: remember the sweep; signals as :func:`worker_signals`."""
    from solver.signals import worker_signals

    global _WORKER_BASE
    worker_signals()
    end_with_parent()
    _WORKER_BASE = (token, case, settings)


#: prctl's option that sends this process a signal when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def end_with_parent() -> None:
    """Make this worker process end when the process that started it ends, however it ends.

    A parent killed with SIGKILL cannot stop its workers, and a worker left alone would
    solve on for minutes. Two guards, each enough alone: on Linux the kernel is asked to
    send SIGTERM when the parent dies (``prctl(PR_SET_PDEATHSIG)``, which the worker's
    handler turns into a prompt exit); everywhere, a daemon thread waits for the parent to
    go (on a pidfd where there is one, else by seeing ``os.getppid()`` change) and ends the
    process. A worker whose parent is already gone ends at once.
    """
    import multiprocessing
    import signal
    import sys

    # The pid multiprocessing started us from, not os.getppid(): if the parent died while
    # this worker was starting, getppid() is already the process that adopted it.
    started_by = multiprocessing.parent_process()
    parent = started_by.pid if started_by is not None and started_by.pid else os.getppid()
    if sys.platform.startswith("linux"):
        import contextlib
        import ctypes

        # Without a libc prctl here the thread below is the guard that remains.
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM),
                                                    0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)  # the parent died before the guards were set
    threading.Thread(target=_watch_parent, args=(parent,), name="coalition-parent-watch",
                     daemon=True).start()


def _watch_parent(parent: int, every: float = 0.5) -> None:
    import select
    import time

    fd = None
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None and hasattr(select, "poll"):
        try:
            fd = pidfd_open(parent)
        except OSError:
            fd = None
    if fd is not None and os.getppid() == parent:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.poll()  # readable once the parent has exited
    else:
        while os.getppid() == parent:
            time.sleep(every)
    os._exit(0)


def _run_in_process(point: Any) -> Any:
    assert _WORKER_BASE is not None
    token, case, settings = _WORKER_BASE
    return _solver_for(token, case, settings).run(point)


def run_on_dask(case: Case, settings: Any, token: str, point: Any) -> Any:
    """Run one task on a Dask worker, keeping the worker's model for its next task.

    HiGHS and Pyomo's output capture want one solve per process at a time: a worker with
    several threads solves its points one after another.
    """
    with _WORKER_LOCK:
        return _solver_for(token, case, settings).run(point)


def in_this_process(base: Case, settings: Any, points: Sequence[Any],
                    here: Any = None) -> Iterator[Any]:
    """Run ``points`` here, one after another, on ``here`` or one new solver."""
    solver = here if here is not None else new_solver(base, settings)
    for point in points:
        yield solver.run(point)


def in_local_processes(base: Case, settings: Any, token: str, points: Sequence[Any],
                       workers: int) -> Iterator[Any]:
    """Solve ``points`` in ``workers`` spawned processes; yield each as it finishes.

    On any exit other than the end (Ctrl-C, a broken worker) the processes are ended.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from solver.signals import noting_stops, raise_for

    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_process,
                               initargs=(token, base, settings))
    try:
        # A stop signal is noted and raised here, between waits, never where it lands: raised
        # inside wait() it could leave a future's lock held, and the pool's manager thread
        # then hangs the process at exit (seen once under SIGTERM).
        with noting_stops(lambda: None) as stops:
            pending = {pool.submit(_run_in_process, p) for p in points}
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                if stops:
                    raise_for(stops[0])
                for future in finished:
                    yield future.result()
                if stops:
                    raise_for(stops[0])
    except BaseException:
        # Ctrl-C (or a broken worker): stop the points not started and end the workers
        # this sweep started; the points already written stay.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


def on_dask(base: Case, settings: Any, token: str, points: Sequence[Any],
            client: Any) -> Iterator[Any]:
    """Solve ``points`` on the Dask cluster of ``client``; yield each as it finishes.

    ``client`` comes from :func:`solver.studies.engine.scheduler.connect` (made before the output
    folder, so that a scheduler that does not answer leaves nothing behind); it is closed
    here when the points are done or the generator is closed.
    """
    from dask.distributed import as_completed

    futures: list[Any] = []
    try:
        case_future = client.scatter(base, broadcast=True, hash=False)
        futures = [client.submit(run_on_dask, case_future, settings, token, p, pure=False,
                                 key=f"coalition-point-{token}-{p.index}")
                   for p in points]
        for future in as_completed(futures, loop=client.loop):
            yield future.result()
    finally:
        if futures:
            client.cancel(futures)
        client.close()
