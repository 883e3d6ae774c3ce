"""cached(): one way to cache a non-training result, with the training cache's guarantees."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from dldna_helpers import result_cache, run_cache
from dldna_helpers.result_cache import cached, result_dir


class Counter:
    def __init__(self, value):
        self.value, self.calls = value, 0

    def __call__(self):
        self.calls += 1
        return self.value


def test_computes_once_then_reads_the_same_result(tmp_cache):
    compute = Counter({"Z": torch.arange(6.0).reshape(2, 3), "best": 0.25, "names": ["a", "b"]})
    first = cached({"surface": 1}, compute)
    second = cached({"surface": 1}, compute)
    assert compute.calls == 1
    assert torch.equal(first["Z"], second["Z"]) and first["best"] == second["best"] == 0.25
    assert first["names"] == second["names"] == ["a", "b"]
    assert (result_dir({"surface": 1}) / "manifest.json").exists()


def test_another_configuration_or_other_code_is_computed_anew(tmp_cache, monkeypatch):
    compute = Counter(torch.ones(2))
    cached({"n": 1}, compute)
    cached({"n": 2}, compute)
    assert compute.calls == 2
    monkeypatch.setattr(run_cache, "code_fingerprint", lambda: "edited helpers")
    cached({"n": 1}, compute)
    assert compute.calls == 3


def test_a_damaged_result_is_reported_by_path_and_recomputed(tmp_cache):
    compute = Counter(torch.arange(4.0))
    cached({"k": 1}, compute)
    stored = result_dir({"k": 1}) / result_cache.RESULT_FILE
    stored.write_bytes(stored.read_bytes()[:10])
    with pytest.warns(run_cache.CacheWarning, match=str(stored)):
        value = cached({"k": 1}, compute)
    assert compute.calls == 2 and torch.equal(value, torch.arange(4.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.equal(cached({"k": 1}, compute), torch.arange(4.0))  # healed: read, no warning
    assert compute.calls == 2


def test_values_that_cannot_be_read_back_safely_are_refused(tmp_cache):
    with pytest.raises(TypeError, match="torch.from_numpy"):
        cached({"bad": 1}, lambda: {"Z": np.zeros(3)})
    assert not result_dir({"bad": 1}).exists()


def test_a_failing_computation_leaves_nothing(tmp_cache):
    def boom():
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        cached({"x": 1}, boom)
    folder = result_dir({"x": 1})
    assert not folder.exists()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith("." + folder.name)]


def test_configurations_must_hash_faithfully(tmp_cache):
    with pytest.raises(TypeError):
        cached({"f": lambda: 1}, lambda: 1)
