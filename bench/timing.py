"""Timing shared by the benchmark scripts (run as `python bench/NAME.py`, so this imports directly)."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` wall-clock runs of ``fn``: the least noisy single number."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def notebook_seconds(path: Path, env: Mapping[str, str], timeout: int = 1800) -> float:
    """Wall time of executing the notebook ``path`` alone, in its folder, with an empty cache and
    ``env`` added to the environment its kernel inherits (restored afterwards)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:   # each page on its own, as a reader runs it
        os.environ.update(env, DLDNA_CACHE_DIR=cache)
        try:
            start = time.perf_counter()
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            return time.perf_counter() - start
        finally:
            os.environ.clear()
            os.environ.update(saved)
