"""Atomic file writes: a crash or a full disk never leaves a truncated file behind.

Files are written to a temporary name beside the target and renamed over it; whole folders
(a training run's records) are filled under a temporary name and renamed into place once,
so their files appear together or not at all. Temporary names carry the writer's host and
process id, and the leftovers of a writer that was killed are removed by the next writer.
JSON is strict (no bare ``NaN``): non-finite floats are stored as ``{"$float": "nan"}``.
"""
from __future__ import annotations

import errno
import json
import math
import os
import secrets
import shutil
import socket
from pathlib import Path
from typing import Any, Callable

_TMP_MARK = ".tmp-"
_ASIDE = ".old"
NONFINITE_KEY = "$float"


def _tmp_suffix() -> str:
    """``.tmp-HOST-PID-TOKEN``: unique per writer, and says whose it is."""
    return f"{_TMP_MARK}{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


def _writer_alive(host: str, pid: str) -> bool:
    """Whether the writer named in a temporary name may still be running (one on another
    host cannot be checked, so it counts as alive)."""
    if host != socket.gethostname() or not pid.isdigit():
        return host != socket.gethostname()
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a live process of another user
        return True
    return True


def remove_stale_temporaries(folder: Path, name: str) -> list[Path]:
    """Delete the temporaries of ``folder/name`` (``.NAME.tmp-HOST-PID-TOKEN``) whose writer is dead."""
    removed: list[Path] = []
    prefix = f".{name}{_TMP_MARK}"
    if not folder.is_dir():
        return removed
    for path in folder.glob(f"{prefix}*"):
        rest = path.name[len(prefix):]
        rest = rest[: -len(_ASIDE)] if rest.endswith(_ASIDE) else rest
        parts = rest.rsplit("-", 2)
        if len(parts) == 3 and not _writer_alive(parts[0], parts[1]):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path.name)
    tmp = path.with_name(f".{path.name}{_tmp_suffix()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def staging_folder(final: Path) -> Path:
    """A new empty folder beside ``final`` to fill before :func:`commit_folder` moves it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final.parent, final.name)
    tmp = final.with_name(f".{final.name}{_tmp_suffix()}")
    tmp.mkdir()
    return tmp


def commit_folder(staged: Path, final: Path, *, replace: bool = False) -> bool:
    """Rename the filled ``staged`` folder to ``final`` in one step; return whether it was committed.

    An existing ``final`` is kept (``False``, ``staged`` is discarded) unless ``replace`` is set,
    in which case it is moved aside first; either way no reader ever sees a half-filled folder.
    """
    if present(final) and replace:
        if final.is_symlink() or not final.is_dir():   # a file or a (looping) link put there by hand
            final.unlink()
        else:
            aside = final.with_name(f".{final.name}{_tmp_suffix()}{_ASIDE}")
            os.replace(final, aside)
            shutil.rmtree(aside, ignore_errors=True)
    try:
        os.rename(staged, final)  # fails if another writer committed a non-empty folder first
        return True
    except OSError:
        if not present(final):
            raise
        shutil.rmtree(staged, ignore_errors=True)
        return False


def present(path: Path) -> bool:
    """Whether anything, even a broken or looping symbolic link, is at ``path``."""
    try:
        os.lstat(path)
        return True
    except FileNotFoundError:
        return False
    except OSError:   # cannot be looked at (permission): something is there
        return True


def _encode_nonfinite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return {NONFINITE_KEY: repr(obj)}  # 'nan', 'inf', '-inf'
    if isinstance(obj, dict):
        return {k: _encode_nonfinite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode_nonfinite(v) for v in obj]
    return obj


def _decode_nonfinite(blob: dict[str, Any]) -> Any:
    if len(blob) == 1 and NONFINITE_KEY in blob:
        return float(blob[NONFINITE_KEY])
    return blob


def dumps_json(obj: Any) -> str:
    """Strict JSON text of ``obj`` (non-finite floats as ``{"$float": "nan"}``; see :func:`loads_json`)."""
    return json.dumps(_encode_nonfinite(obj), ensure_ascii=False, indent=1, allow_nan=False)


def loads_json(text: str) -> Any:
    """The inverse of :func:`dumps_json`."""
    return json.loads(text, object_hook=_decode_nonfinite)


def canonical_json(obj: Any) -> bytes:
    """One byte string per JSON value (keys sorted, no spaces, non-finite floats encoded): what a
    manifest's own hash is computed over."""
    return json.dumps(_encode_nonfinite(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode()


def is_write_failure(err: BaseException) -> bool:
    """Whether ``err`` says a file could not be written (full disk, read-only or forbidden folder,
    a quota): ``OSError``, or the ``RuntimeError`` torch raises when its zip writer fails."""
    if isinstance(err, OSError):
        return True
    text = str(err)
    return isinstance(err, RuntimeError) and ("PytorchStreamWriter" in text or "inline_container" in text
                                              or "file write failed" in text)


def write_problem(err: BaseException, folder: Path | None = None) -> str:
    """A short description of a failed write for a message (``No space left on device (errno ENOSPC)``);
    torch's own write errors do not say why, so the free space of ``folder`` is looked at."""
    if isinstance(err, OSError) and err.errno is not None:
        return f"{os.strerror(err.errno)} (errno {errno.errorcode.get(err.errno, err.errno)})"
    text = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    probe = folder
    while probe is not None and not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free if probe is not None else None
    except OSError:
        free = None
    if free is not None and free < (1 << 20):
        return f"the disk is full: {free:,} bytes free ({text})"
    return text


def save_atomic(obj: Any, path: Path) -> None:
    """``torch.save`` (or strict JSON, :func:`dumps_json`, for a ``.json`` path) through :func:`atomic_write`."""
    if path.suffix == ".json":
        text = dumps_json(obj)
        atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    else:
        import torch

        atomic_write(path, lambda tmp: torch.save(obj, tmp))
