"""Independent training runs spread over the CPU's cores, with the results of a serial loop.

The quick profile trains on one torch thread per page, so that the committed numbers are the
same on every CPU. A page that compares methods over several seeds then has many independent
runs and idle cores. :func:`map_runs` runs ``fn(*task)`` for every task in processes forked
from the kernel (they inherit the page's functions, data and loaders; nothing is re-imported
or sent over), one torch thread each, and returns the results in task order, as
``[fn(*task) for task in tasks]`` would:

- every task starts from the random state the call began with, and the call leaves that
  state as it found it, in parallel and in serial mode alike, so a task's result does not
  depend on which worker ran it or on what ran before it;
- what a task prints (and warns) in a worker is captured and written out in task order, so
  the page shows what the serial loop would (in serial mode it is printed as it happens);
- the first failing task's exception is raised with its traceback; a worker that dies (for
  example killed for lack of memory) is reported with its task, its exit code and the way out
  (``DLDNA_JOBS=1``);
- Ctrl-C (Jupyter's interrupt button) cancels the queued tasks and stops the workers within
  about a second, and ``timeout=`` stops a task that hangs;
- results are taken from the workers as they finish (the parent never holds all of them
  twice), and the number of processes never exceeds the usable CPUs, whatever ``jobs`` or
  ``$DLDNA_JOBS`` asks (a note says so once).

It runs serially when forking is not safe or not useful: without ``fork`` (Windows, and
macOS, where Python does not fork by default), once CUDA is in use (a forked child cannot
use it; the GPU is then the parallel resource), when torch already uses several threads per
run, inside a worker, with a single task or a single usable CPU, or when ``DLDNA_JOBS=1``.
"""
from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import pickle
import random
import signal
import sys
import threading
import time
import traceback
import warnings
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

import numpy as np
import numpy.random  # noqa: F401 - imported now, not lazily inside map_runs: see _random_state
import torch

JOBS_ENV = "DLDNA_JOBS"   # the same variable sets the book build's and the test run's workers
T = TypeVar("T")

_job: tuple[Callable[..., Any], Sequence[tuple], tuple] | None = None   # inherited by forked workers
_in_worker = False


def in_worker() -> bool:
    """True inside a worker process of :func:`map_runs` (where progress bars and nested pools are off)."""
    return _in_worker


def jobs_from_env() -> int | None:
    """``$DLDNA_JOBS`` as a positive int, None when unset; any other value is an error naming it."""
    text = os.environ.get(JOBS_ENV, "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and int(text) >= 1:
        return int(text)
    raise ValueError(f"{JOBS_ENV} must be a positive integer (1 = run everything serially), got {text!r}")


def cgroup_cpu_limit(cpu_max: str) -> int | None:
    """CPUs allowed by a cgroup-v2 ``cpu.max`` line ("200000 100000" → 2, "max 100000" → None)."""
    parts = cpu_max.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    quota, period = int(parts[0]), int(parts[1])
    return max(1, quota // period)


def usable_cpus() -> int:
    """CPUs this process may use: its affinity mask, capped by a container's CPU quota
    (Binder and Docker limit the quota while the affinity shows every core of the host)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        limit = cgroup_cpu_limit(Path("/sys/fs/cgroup/cpu.max").read_text())
    except (OSError, ValueError):
        limit = None
    return min(count, limit) if limit else count


def serial_reason() -> str | None:
    """Why :func:`map_runs` would run serially here regardless of the number of tasks, or None."""
    if _in_worker:
        return "inside a worker"
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return f"no safe fork on {sys.platform}"
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return "CUDA is in use"
    if torch.get_num_threads() > 1:
        return f"torch already uses {torch.get_num_threads()} threads per run"
    return None


_capped_note_given = False


class JobsCappedWarning(UserWarning):
    """More worker processes were asked for than there are usable CPUs; the CPU count is used."""


def worker_count(n_tasks: int, jobs: int | None = None) -> int:
    """How many processes :func:`map_runs` uses for ``n_tasks`` tasks (1 = in this process): no more
    than the tasks, ``jobs`` (or ``$DLDNA_JOBS``) and the usable CPUs — more processes than CPUs
    only share the same cores and multiply the memory. Asking for more gives a note, once."""
    global _capped_note_given
    wanted = jobs if jobs is not None else jobs_from_env()
    if n_tasks < 2 or serial_reason() is not None:
        return 1
    cpus = usable_cpus()
    if wanted is not None and wanted > cpus and not _capped_note_given:
        _capped_note_given = True
        source = f"jobs={wanted}" if jobs is not None else f"{JOBS_ENV}={wanted}"
        warnings.warn(f"{source} asks for more worker processes than the {cpus} usable CPU(s); map_runs uses {cpus}",
                      JobsCappedWarning, stacklevel=3)
    return max(1, min(n_tasks, cpus, wanted if wanted is not None else cpus))


def _random_state() -> tuple:
    # numpy 2 imports numpy.random on first use; a Ctrl-C that lands inside that import (of a
    # compiled module) was swallowed there and lost (tests/test_faults.py): it is imported above.
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    return random.getstate(), np.random.get_state(), torch.get_rng_state(), cuda


def _set_random_state(state: tuple) -> None:
    py, npy, cpu, cuda = state
    random.setstate(py)
    np.random.set_state(npy)
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)


def _call(fn: Callable[..., T], task: tuple, start: tuple, capture: bool) -> tuple[bool, Any, str, str]:
    """Run one task from ``start``; (succeeded, result or exception, stdout, stderr). A worker
    captures what the task prints (to be written out in task order); in this process it goes
    straight to the page, as a plain loop's would."""
    _set_random_state(start)
    out, err = io.StringIO(), io.StringIO()
    try:
        with (contextlib.redirect_stdout(out) if capture else contextlib.nullcontext()), \
                (contextlib.redirect_stderr(err) if capture else contextlib.nullcontext()):
            result = fn(*task)
    except Exception as exc:  # noqa: BLE001 - handed to the caller, which raises it
        if capture:   # from a worker the traceback does not travel with the exception: keep its text
            exc.__dldna_traceback__ = traceback.format_exc()
        return False, exc, out.getvalue(), err.getvalue()
    return True, result, out.getvalue(), err.getvalue()


def _start_worker() -> None:
    global _in_worker
    _in_worker = True
    torch.set_num_threads(1)   # the parent ran on one thread (a condition for forking): so does every run
    # Ctrl-C in Jupyter reaches the whole process group: the parent decides, and stops the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_task(index: int) -> bytes:
    fn, tasks, start = _job
    ok, value, out, err = _call(fn, tasks[index], start, capture=True)
    try:
        blob = pickle.dumps((ok, value, out, err), protocol=pickle.HIGHEST_PROTOCOL)
        if not ok:
            pickle.loads(blob)   # an exception class whose arguments do not round-trip fails here, not later
        return blob
    except Exception as exc:  # noqa: BLE001 - the result cannot travel back: say so, with what it was
        text = getattr(value, "__dldna_traceback__", "") if not ok else ""
        problem = RuntimeError(f"the result of task {tasks[index]!r} cannot be sent back from the worker "
                               f"process ({type(exc).__name__}: {exc}); return plain data (numbers, lists, "
                               f"dicts, tensors, histories) from the function, or set {JOBS_ENV}=1{text}")
        return pickle.dumps((False, problem, out, err))


def _worker_main(conn: Connection) -> None:
    """A worker: run the task indices the parent sends, send each result back, stop on None."""
    _start_worker()
    while True:
        try:
            index = conn.recv()
        except (EOFError, OSError):
            break
        if index is None:
            break
        conn.send_bytes(_run_task(index))
    conn.close()


def _deliver(ok: bool, value: Any, out: str, err: str) -> Any:
    sys.stdout.write(out)
    sys.stderr.write(err)
    if ok:
        return value
    text = getattr(value, "__dldna_traceback__", None)
    if text and hasattr(value, "add_note"):
        value.add_note(f"(in a worker process of map_runs)\n{text}")
    raise value


class _Worker:
    """One forked worker process and the task it is running."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.task: int | None = None
        self.since = 0.0

    def give(self, index: int) -> None:
        self.task, self.since = index, time.monotonic()
        self.conn.send(index)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)


def _stop_all(workers: list[_Worker]) -> None:
    """End every worker within about half a second: SIGTERM, then SIGKILL for any still alive."""
    for w in workers:
        if w.process.is_alive():
            w.process.terminate()
    deadline = time.monotonic() + 0.5
    for w in workers:
        w.process.join(max(0.0, deadline - time.monotonic()))
        if w.process.is_alive():
            w.process.kill()
            w.process.join(1.0)
        with contextlib.suppress(OSError):
            w.conn.close()


def _died(w: _Worker, task: Any) -> RuntimeError:
    code = w.process.exitcode
    how = f"exit code {code}"
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            how = f"signal {signal.Signals(-code).name}" + (" (often the out-of-memory killer)" if -code == 9 else "")
    return RuntimeError(
        f"a worker process of map_runs died before finishing task {w.task} {task!r} ({how}). Finished runs are "
        f"kept in the run cache; set {JOBS_ENV}=1 (e.g. `%env {JOBS_ENV}=1`) to run the rest one after another "
        "in this process and see the task's own error.")


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold a Ctrl-C that arrives while workers are forked and raise it once they all exist.

    A SIGINT whose Python handler runs inside ``os.fork``'s at-fork hooks (logging registers one)
    raises KeyboardInterrupt there, where Python only prints "Exception ignored" and goes on: the
    interrupt was lost and a hung task then held the kernel forever (seen under load in
    tests/test_faults.py). Here the handler only notes the signal; it is raised after the forks,
    where ``_run_forked``'s ``finally`` stops the workers. Signals can be handled only in the
    main thread; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        if callable(previous):
            previous(signal.SIGINT, None)   # default_int_handler raises KeyboardInterrupt
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


def _run_forked(fn: Callable[..., T], todo: list[tuple], start: tuple, n_workers: int,
                timeout: float | None) -> list[T]:
    """The tasks in ``n_workers`` forked processes; results are taken as they arrive (only one
    result's bytes at a time in memory) and delivered in task order."""
    global _job
    context = multiprocessing.get_context("fork")
    results: dict[int, tuple] = {}
    delivered: list[T] = []
    workers: list[_Worker] = []
    queue = iter(range(len(todo)))
    _job = (fn, todo, start)
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a multi-threaded process (the kernel has I/O
            # threads) may deadlock; the workers touch none of the kernel's locks or sockets.
            warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks",
                                    category=DeprecationWarning)
            with _sigint_deferred():
                workers = [_Worker(context) for _ in range(n_workers)]
        for w in workers:
            index = next(queue, None)
            if index is not None:
                w.give(index)
        while len(delivered) < len(todo):
            busy = [w for w in workers if w.task is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=0.1))
            for w in busy:
                if w.conn in ready:
                    try:
                        blob = w.conn.recv_bytes()
                    except (EOFError, OSError):
                        w.process.join(1.0)
                        raise _died(w, todo[w.task]) from None
                    results[w.task] = pickle.loads(blob)
                    del blob
                    index = next(queue, None)
                    if index is None:
                        w.task = None
                        w.stop()
                    else:
                        w.give(index)
                elif w.process.sentinel in ready:
                    w.process.join(1.0)
                    raise _died(w, todo[w.task])
                elif timeout is not None and time.monotonic() - w.since > timeout:
                    raise TimeoutError(f"task {w.task} {todo[w.task]!r} of map_runs ran longer than {timeout} s; "
                                       "its worker was stopped and the queued tasks were cancelled")
            while len(delivered) in results:   # stream: print and hand over each result in task order
                delivered.append(_deliver(*results.pop(len(delivered))))
        return delivered
    finally:
        _job = None
        _stop_all(workers)


def _call_with_timeout(fn: Callable[..., T], task: tuple, start: tuple, timeout: float | None) -> tuple:
    """:func:`_call` in this process; with a timeout, an alarm interrupts a task that runs too long
    (main thread on Unix only: elsewhere the timeout applies to forked workers alone)."""
    if timeout is None or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return _call(fn, task, start, capture=False)

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"task {task!r} of map_runs ran longer than {timeout} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return _call(fn, task, start, capture=False)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def map_runs(fn: Callable[..., T], tasks: Iterable[tuple | Any], *, jobs: int | None = None,
             timeout: float | None = None) -> list[T]:
    """``[fn(*task) for task in tasks]`` (a task that is not a tuple is one argument), run in as
    many forked processes as there are usable CPUs when that is safe (see the module's doc).

    ``jobs`` (or ``$DLDNA_JOBS``) caps the number of processes (never above the usable CPUs);
    1 runs every task here, in order. ``timeout`` (seconds) stops a task that runs longer with a
    ``TimeoutError``. Ctrl-C (Jupyter's interrupt) cancels the queued tasks and stops the
    workers within about a second; a worker that dies is reported with its task and exit code.
    """
    todo = [task if isinstance(task, tuple) else (task,) for task in tasks]
    if jobs is not None and not (isinstance(jobs, int) and not isinstance(jobs, bool) and jobs >= 1):
        raise ValueError(f"jobs must be a positive int or None, got {jobs!r}")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    workers = worker_count(len(todo), jobs)
    start = _random_state()
    try:
        if workers == 1:
            return [_deliver(*_call_with_timeout(fn, task, start, timeout)) for task in todo]
        return _run_forked(fn, todo, start, workers, timeout)
    finally:
        _set_random_state(start)
