"""cached(): one way to cache a non-training result, keyed by the call, with the training cache's guarantees."""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

from dldna_helpers import keys, run_cache
from dldna_helpers.result_cache import cached, result_dir


class Counter:
    def __init__(self, value):
        self.value, self.calls = value, 0

    def __call__(self):
        self.calls += 1
        return self.value


def notebook_function(source: str, name: str, **globals_):
    """A function as a notebook cell defines it (module ``__main__``, no file): found by its code."""
    namespace = {"__name__": "__main__", "torch": torch, "np": np, **globals_}
    exec(source, namespace)
    return namespace[name], namespace


@dataclasses.dataclass
class Surface:
    grid: np.ndarray
    line: torch.Tensor
    best: float
    label: str


# ------------------------------------------------------------------ the older form: cached(config, compute)
def test_computes_once_then_reads_the_same_result(tmp_cache):
    compute = Counter({"Z": torch.arange(6.0).reshape(2, 3), "best": 0.25, "names": ["a", "b"]})
    first = cached({"surface": 1}, compute)
    second = cached({"surface": 1}, compute)
    assert compute.calls == 1
    assert torch.equal(first["Z"], second["Z"]) and first["best"] == second["best"] == 0.25
    assert first["names"] == second["names"] == ["a", "b"]
    assert (result_dir({"surface": 1}, compute) / "manifest.json").exists()


def test_another_configuration_or_other_code_is_computed_anew(tmp_cache):
    compute = Counter(torch.ones(2))
    cached({"n": 1}, compute)
    cached({"n": 2}, compute)
    assert compute.calls == 2
    first, _ = notebook_function("def f():\n    return torch.ones(2)\n", "f")
    edited, _ = notebook_function("def f():\n    return torch.ones(2) * 1.0\n", "f")
    calls = []
    cached({"n": 1}, lambda: calls.append(1) or first())
    cached({"n": 1}, lambda: calls.append(2) or edited())   # the same config, other code: computed
    assert calls == [1, 2]


def test_a_damaged_result_is_reported_by_path_and_recomputed(tmp_cache):
    compute = Counter(torch.arange(4.0))
    cached({"k": 1}, compute)
    stored = result_dir({"k": 1}, compute) / "result.pt"
    stored.write_bytes(stored.read_bytes()[:10])
    with pytest.warns(run_cache.CacheWarning, match=str(stored)):
        value = cached({"k": 1}, compute)
    assert compute.calls == 2 and torch.equal(value, torch.arange(4.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.equal(cached({"k": 1}, compute), torch.arange(4.0))  # healed: read, no warning
    assert compute.calls == 2


def test_values_that_cannot_be_read_back_safely_are_refused(tmp_cache):
    with pytest.raises(TypeError, match="cannot be stored safely"):
        cached({"bad": 1}, lambda: {"Z": np.array([1, "a"], dtype=object)})
    with pytest.raises(TypeError, match="cannot be stored safely"):
        cached({"bad": 2}, lambda: {"f": Counter})
    assert not [p for p in (tmp_cache / "results").iterdir() if not p.name.startswith(".")]


def test_a_failing_computation_leaves_nothing(tmp_cache):
    def boom():
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        cached({"x": 1}, boom)
    assert list((tmp_cache / "results").iterdir()) == []


def test_configurations_must_hash_faithfully(tmp_cache):
    with pytest.raises(TypeError):
        cached({"f": lambda: 1}, lambda: 1)


# ------------------------------------------------------------------ keys derived from the call
def test_the_key_is_the_function_and_its_arguments(tmp_cache):
    import itertools

    counter = itertools.count()   # an iterator has no content a key can read (a list it appended to would)

    def measure(weights, points, *, scale=1.0):
        next(counter)
        return weights.sum() * points * scale

    w = torch.arange(4.0)
    assert float(cached(measure, w, 3)) == 18.0
    assert float(cached(measure, w, 3)) == 18.0 and next(counter) == 1
    cached(measure, w, 4)
    cached(measure, w, 3, scale=2.0)
    w2 = w.clone()
    w2[1] = 5.0
    cached(measure, w2, 3)   # the same shape, other values
    assert next(counter) == 2 + 3


def test_globals_a_notebook_function_reads_are_part_of_the_key(tmp_cache):
    source = "def grid():\n    return DIRECTION * STEPS\n"
    fn, namespace = notebook_function(source, "grid", DIRECTION=torch.ones(3), STEPS=2)
    assert torch.equal(cached(fn), torch.full((3,), 2.0))
    namespace["STEPS"] = 5                  # a global changed between two runs of the cell
    assert torch.equal(cached(fn), torch.full((3,), 5.0))
    namespace["DIRECTION"][0] = -1.0        # changed in place
    assert torch.equal(cached(fn), torch.tensor([-5.0, 5.0, 5.0]))


def test_arguments_that_cannot_be_described_are_refused_by_name(tmp_cache):
    import threading

    with pytest.raises(keys.DescribeError, match=r"argument\[1\].*lock"):
        cached(lambda a, b: a, 1, threading.Lock())


def test_dataclass_results_are_stored_as_such(tmp_cache):
    import itertools

    counter = itertools.count()

    def measure(n):
        next(counter)
        return [Surface(np.linspace(0, 1, n), torch.ones(n), 0.5, "sgd")]

    fresh = cached(measure, 3)
    warm = cached(measure, 3)
    assert next(counter) == 1
    for value in (fresh, warm):
        assert isinstance(value[0], Surface) and isinstance(value[0].grid, np.ndarray)
        np.testing.assert_array_equal(value[0].grid, np.linspace(0, 1, 3))
        assert value[0].label == "sgd" and torch.equal(value[0].line, torch.ones(3))


def test_a_hit_restores_the_random_state_the_computation_left(tmp_cache):
    def directions(n):
        return torch.randn(n)

    torch.manual_seed(0)
    fresh = cached(directions, 4)
    after_fresh = torch.randn(2)
    torch.manual_seed(0)
    warm = cached(directions, 4)
    after_warm = torch.randn(2)
    assert torch.equal(fresh, warm) and torch.equal(after_fresh, after_warm)
    torch.manual_seed(1)   # another start: another result, computed (and kept beside the first)
    other = cached(directions, 4)
    assert not torch.equal(other, fresh)


def test_a_library_linked_in_from_another_environment_is_identified_by_its_version(tmp_path, monkeypatch):
    """The Colab-like test links torch into a fresh venv; resolving the link left torch outside that
    venv's library folders, so the key walked torch's globals (minutes, 14 GB). Installed code is
    known by its folder name before or after resolving links."""
    import importlib
    import sys

    from dldna_helpers import keys

    target = tmp_path / "other-env" / "lib" / "python3.11" / "site-packages" / "linkedlib_probe"
    target.mkdir(parents=True)
    (target / "__init__.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    linked = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    linked.mkdir(parents=True)
    (linked / "linkedlib_probe").symlink_to(target)
    monkeypatch.syspath_prepend(str(linked))
    module = importlib.import_module("linkedlib_probe")
    try:
        assert keys._is_installed(module.__file__)
        assert "version" in keys._source_of_module("linkedlib_probe")
        own = tmp_path / "mine.py"
        own.write_text("x = 1\n", encoding="utf-8")
        assert not keys._is_installed(str(own))   # a reader's own file is described by its code
    finally:
        sys.modules.pop("linkedlib_probe", None)
