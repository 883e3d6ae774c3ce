"""One way to cache an expensive result that is not a training run (a loss surface, optimizer
paths on it, a Hessian spectrum): :func:`cached` returns the stored result of a call, or
computes, stores and returns it.

The key is derived from the call, as for training runs (:mod:`.run_cache`): the function's code
(its module's source for a function of this package; its bytecode, defaults, closure and the
globals it reads for one defined in a notebook), its arguments (tensors and arrays by content,
modules by weights and attributes, dataclasses field by field: :mod:`.keys`), torch/NumPy
versions, GPU and thread count. A page writes::

    def measure_surface(model, batch, points):
        ...
        return SurfaceResult(Z=grid, line=line, line_y=line_y)   # a dataclass, arrays welcome

    surface = cached(measure_surface, model, eval_batch, profile.surface_points)

The older form ``cached(config, compute)`` still works: ``config`` is then extra key material
next to ``compute``'s code and the globals it reads. A hit checks the stored entry against the
call (see :mod:`.run_cache`) and restores the random state the computation left, so the next
random draw is the same with an empty and a warm cache. The value is stored with
``torch.save`` and read with ``weights_only=True``: tensors, NumPy arrays of numbers, numbers,
strings, ``None``, dataclasses (defined at module level) and lists, tuples or dicts of them. A
fresh computation returns the stored form too, so a page sees the same object whether the
cache was warm or empty. A cache folder that cannot be written gives a warning and the result
is returned uncached.
"""
from __future__ import annotations

import io
import types
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from . import keys, run_cache
from .env import cache_dir

__all__ = ["cached", "result_dir", "describe_call"]


def describe_call(fn: Callable[..., Any], args: tuple, kwargs: Mapping[str, Any], *, config: Any = None,
                  cache_key: Any = None) -> dict[str, Any]:
    """The request of ``fn(*args, **kwargs)``: what :func:`cached` keys and verifies a result by.

    Arguments must be describable by content (:class:`keys.DescribeError` names the one that is
    not); globals the function reads are described where possible and marked by type otherwise."""
    d = keys._Describer(strict=True)
    if config is not None and not isinstance(fn, (types.FunctionType, types.MethodType)):
        function = d.code(type(fn), "compute")   # the older form: ``config`` names what the object holds
    else:
        function = d.code(fn, getattr(fn, "__qualname__", "function"))
        if isinstance(fn, types.MethodType) and not isinstance(fn.__self__, type):
            function = {"method": function, "self": d.value(fn.__self__, "self", lenient=True)}
    return {
        "kind": "result",
        "cache_format": run_cache.CACHE_FORMAT,
        "environment": keys.environment(),
        "function": function,
        "args": d.value(list(args), "argument"),
        "kwargs": d.value(dict(kwargs), "keyword argument"),
        "config": config,
        "cache_key": None if cache_key is None else run_cache._float_safe(run_cache.canonical(cache_key, "cache_key")),
    }


def result_dir(config: Mapping[str, Any], compute: Callable[[], Any] | None = None) -> Path:
    """The cache folder of ``cached(config, compute)`` (``compute`` given) or, without it, the
    folder named by the configuration alone (as before keys were derived; for messages)."""
    if compute is None:
        return cache_dir("results") / run_cache.config_key(config)
    request = describe_call(compute, (), {}, config=run_cache._float_safe(run_cache.canonical(dict(config))))
    return cache_dir("results") / keys.digest(request)


def _stored_form(value: Any) -> tuple[Any, list[str]]:
    """``value`` as :func:`cached` returns it after a cache read, and the classes it needs."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    classes = run_cache.result_classes(buffer.getvalue())
    buffer.seek(0)
    try:
        with torch.serialization.safe_globals(run_cache.safe_objects(classes)):
            return torch.load(buffer, weights_only=True), classes
    except Exception as err:  # noqa: BLE001 - whatever torch refuses, say what is allowed
        raise TypeError(
            f"cached(): the result ({type(value).__name__}) cannot be stored safely: {err}. Return tensors, NumPy "
            "arrays, numbers, strings, None, dataclasses, or lists/tuples/dicts of them"
        ) from err


def cached(fn: Callable[..., Any] | Mapping[str, Any], /, *args: Any, cache_key: Any = None, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, computed once: a verified stored copy, or computed now, stored in
    one atomic commit and returned (in its stored form).

    ``cache_key`` (JSON values, tensors, arrays) is extra key material for what the call cannot
    show, e.g. a file the function reads. ``cached(config, compute)`` (a dict and a function of no
    arguments) is the older form, with ``config`` as extra key material."""
    config = None
    if isinstance(fn, Mapping):
        if len(args) != 1 or not callable(args[0]) or kwargs:
            raise TypeError("cached(config, compute) takes a dict and a function of no arguments; "
                            "or call cached(function, *args, **kwargs)")
        config = run_cache._float_safe(run_cache.canonical(dict(fn)))
        fn, args = args[0], ()
    if not callable(fn):
        raise TypeError(f"cached() needs a function to call, got {type(fn).__name__}")
    request = describe_call(fn, args, kwargs, config=config, cache_key=cache_key)
    session = run_cache.open_result(request, config)
    if session.found:
        return session.value
    try:
        value, classes = _stored_form(fn(*args, **kwargs))
        session.record(value, classes)
    finally:
        session.close()
    return value
