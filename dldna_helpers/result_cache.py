"""One way to cache an expensive result that is not a training run (a loss surface, optimizer
paths on it, a Hessian spectrum): :func:`cached` returns the stored result for a
configuration, or computes, stores and returns it.

It shares the training cache's guarantees (:mod:`dldna_helpers.run_cache`): the key hashes
the configuration together with the helper code, torch version and thread count; a result
appears in one atomic commit with a manifest of sizes and hashes; a damaged entry is
reported by path and recomputed. The value is stored with ``torch.save`` and read with
``weights_only=True``, so it must be made of tensors, numbers, strings, ``None`` and
lists, tuples or dicts of them. A fresh computation returns the stored form too, so a page
sees exactly the same object whether the cache was warm or empty.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from .env import cache_dir
from .run_cache import CacheCorruptError, CacheWarning, RunWriter, config_key, load_tensor_file, read_manifest

__all__ = ["cached", "result_dir"]

RESULT_FILE = "result.pt"


def result_dir(config: Mapping[str, Any]) -> Path:
    """The cache folder of the result of ``config``."""
    return cache_dir("results") / config_key(config)


def _stored_form(value: Any) -> Any:
    """``value`` as :func:`cached` returns it after a cache read (checked once, in memory)."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    buffer.seek(0)
    try:
        return torch.load(buffer, weights_only=True)
    except Exception as err:  # noqa: BLE001 - whatever torch refuses, say what is allowed
        raise TypeError(
            f"cached(): the result ({type(value).__name__}) cannot be stored safely: {err}. Return tensors, "
            "numbers, strings, None, or lists/tuples/dicts of them (convert numpy arrays with torch.from_numpy)"
        ) from err


def cached(config: Mapping[str, Any], compute: Callable[[], Any]) -> Any:
    """The result of ``compute()`` for ``config``: a verified stored copy, or computed now,
    stored in one atomic commit and returned (in its stored form). ``config`` must name
    everything the result depends on."""
    folder = result_dir(config)
    replace = False
    if folder.exists():
        try:
            return load_tensor_file(folder, read_manifest(folder, required=("files", "kind")), RESULT_FILE)
        except CacheCorruptError as err:
            warnings.warn(f"{err}; recomputing the result", CacheWarning, stacklevel=2)
            replace = True
    value = _stored_form(compute())
    writer = RunWriter(folder)
    try:
        writer.save(value, RESULT_FILE)
        writer.commit({"kind": "result"}, replace=replace)
    except BaseException:
        writer.discard()
        raise
    return value
