"""Atomic file writes: a crash or a full disk never leaves a truncated file behind."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_atomic(obj: Any, path: Path) -> None:
    """``torch.save`` (or JSON for a ``.json`` path) through :func:`atomic_write`."""
    if path.suffix == ".json":
        atomic_write(path, lambda tmp: tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1)))
    else:
        import torch

        atomic_write(path, lambda tmp: torch.save(obj, tmp))
