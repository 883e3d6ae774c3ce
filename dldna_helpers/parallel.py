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
  example killed for lack of memory) is reported with the way out (``DLDNA_JOBS=1``).

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
import sys
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TypeVar

import numpy as np
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
    if text.isdigit() and int(text) >= 1:
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


def worker_count(n_tasks: int) -> int:
    """How many processes :func:`map_runs` uses for ``n_tasks`` tasks (1 = in this process)."""
    jobs = jobs_from_env()
    if n_tasks < 2 or serial_reason() is not None:
        return 1
    return max(1, min(n_tasks, jobs if jobs is not None else usable_cpus()))


def _random_state() -> tuple:
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


def _deliver(ok: bool, value: Any, out: str, err: str) -> Any:
    sys.stdout.write(out)
    sys.stderr.write(err)
    if ok:
        return value
    text = getattr(value, "__dldna_traceback__", None)
    if text and hasattr(value, "add_note"):
        value.add_note(f"(in a worker process of map_runs)\n{text}")
    raise value


def map_runs(fn: Callable[..., T], tasks: Iterable[tuple | Any], *, jobs: int | None = None) -> list[T]:
    """``[fn(*task) for task in tasks]`` (a task that is not a tuple is one argument), run in as
    many forked processes as there are usable CPUs when that is safe (see the module's doc).

    ``jobs`` (or ``$DLDNA_JOBS``) caps the number of processes; 1 runs every task here, in order.
    """
    global _job
    todo = [task if isinstance(task, tuple) else (task,) for task in tasks]
    if jobs is not None and not (isinstance(jobs, int) and not isinstance(jobs, bool) and jobs >= 1):
        raise ValueError(f"jobs must be a positive int or None, got {jobs!r}")
    workers = min(worker_count(len(todo)), jobs or len(todo))
    start = _random_state()
    try:
        if workers == 1:
            return [_deliver(*_call(fn, task, start, capture=False)) for task in todo]
        _job = (fn, todo, start)
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns that forking a multi-threaded process (the kernel has I/O
                # threads) may deadlock; the workers touch none of the kernel's locks or sockets.
                warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks",
                                        category=DeprecationWarning)
                with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                         initializer=_start_worker) as pool:
                    answers = list(pool.map(_run_task, range(len(todo))))
        except BrokenProcessPool as err:
            raise RuntimeError(
                f"a worker process of map_runs died before finishing (often: killed for lack of memory). "
                f"Finished runs are kept in the run cache; set {JOBS_ENV}=1 (e.g. `%env {JOBS_ENV}=1`) "
                "to run the rest one after another in this process.") from err
        finally:
            _job = None
        return [_deliver(*pickle.loads(answer)) for answer in answers]
    finally:
        _set_random_state(start)
