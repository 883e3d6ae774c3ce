"""The run cache under faults: results independent of the cache state, one commit per run,
killed and concurrent runs, divergence, damaged files, faithful keys. (What a hit verifies
against the call, and the failures of issue 30, are re-created in tests/test_faults.py.)"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from dldna_helpers import run_cache
from dldna_helpers.data import TensorData, TensorLoader
from dldna_helpers.dynamics import DYNAMICS_FORMAT, tracked_train
from dldna_helpers.run_cache import CacheCorruptError, CacheWarning, RunWriter, config_key
from dldna_helpers.training import load_checkpoints, run_dir, train


def _data(n=192, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, generator=gen)
    y = (x.flatten(1).sum(1) > 0).long()
    return TensorData(x, y, ("neg", "pos"), "toy")


def _loader(seed=0):
    return TensorLoader(_data(), 32, shuffle=True, seed=seed)


def _model(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Dropout(dropout), nn.Linear(8, 2))


def _run(config, loader, lr=0.1, epochs=3, dropout=0.0, **kwargs):
    model = _model(dropout=dropout)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = train(model, opt, loader, TensorLoader(_data(), 64), epochs, cache_config=config, **kwargs)
    return model, opt, history


def _same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, equal_nan=True)


def _page(lr_a=0.1, lr_b=0.2):
    """Two runs that share one loader, as the 5.3 skip-connection cell once did."""
    loader = _loader()
    runs = [_run({"run": name, "lr": lr}, loader, lr=lr) for name, lr in (("a", lr_a), ("b", lr_b))]
    return runs, loader.generator.get_state()


# ------------------------------------------------------------------ 1. independent of the cache state
def test_shared_loader_gives_the_same_results_on_empty_and_warm_cache(tmp_cache):
    empty, state_empty = _page()
    warm, state_warm = _page()
    assert [h.from_cache for _, _, h in warm] == [True, True]
    for (m1, _, h1), (m2, _, h2) in zip(empty, warm):
        assert h1.test_loss == h2.test_loss and h1.step_loss == h2.step_loss
        _same_state(m1.state_dict(), m2.state_dict())
    assert torch.equal(state_empty, state_warm)  # the hit left the loader where the fresh run did


def test_a_run_started_from_another_random_state_is_another_run(tmp_cache):
    """A loader that an earlier run advanced shuffles differently: its generator state is part of
    the key, so the run is trained (not served from the first run) and then cached under its own key."""
    config = {"run": "start"}
    _, _, first = _run(config, _loader())
    advanced = _loader()
    list(advanced)  # one epoch drawn: another data order from here on
    reference = _loader()
    list(reference)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, _, history = _run(config, advanced)
    assert not history.from_cache and history.run_key != first.run_key
    _, _, uncached = _run(None, reference)
    assert history.step_loss == uncached.step_loss
    again_loader = _loader()
    list(again_loader)
    _, _, again = _run(config, again_loader)
    assert again.from_cache and again.step_loss == uncached.step_loss


def test_global_generator_is_restored_when_the_run_draws_from_it(tmp_cache):
    config = {"run": "dropout"}
    torch.manual_seed(7)
    _run(config, _loader(), dropout=0.5)
    after_fresh = torch.get_rng_state()
    torch.manual_seed(7)
    _, _, history = _run(config, _loader(), dropout=0.5)
    assert history.from_cache and torch.equal(torch.get_rng_state(), after_fresh)


def _dropout_run(stream):
    model = _model(dropout=0.5)   # the same starting weights whatever the stream
    torch.manual_seed(stream)     # the state dropout draws from
    history = train(model, torch.optim.SGD(model.parameters(), lr=0.1), _loader(), TensorLoader(_data(), 64), 2,
                    cache=True)
    return history, torch.get_rng_state()


def test_a_run_that_draws_from_another_global_state_is_stored_beside_the_first(tmp_cache):
    """Dropout draws from torch's global generator, which the key cannot see before the run: the
    stored run's start is compared, and a run from another start is trained and kept as a variant."""
    first, _ = _dropout_run(100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh, end_fresh = _dropout_run(101)
    assert not fresh.from_cache and fresh.step_loss != first.step_loss
    assert fresh.run_key.startswith(first.run_key + ".")   # a variant beside the first run
    again, end_again = _dropout_run(101)
    assert again.from_cache and again.step_loss == fresh.step_loss and torch.equal(end_again, end_fresh)
    first_again, _ = _dropout_run(100)
    assert first_again.from_cache and first_again.step_loss == first.step_loss


# ------------------------------------------------------------------ 2. one commit point per run
def _committed(runs):
    return sorted(p.name for p in runs.iterdir() if not p.name.startswith(".")) if runs.exists() else []


def _tracked(config, epochs=3, scheduler=None):
    model = _model()
    return tracked_train(model, torch.optim.SGD(model.parameters(), lr=0.1), _loader(), TensorLoader(_data(), 64),
                         epochs, cache_config=config, **({"scheduler": scheduler} if scheduler else {}))


def test_files_of_a_run_appear_together_and_a_killed_run_leaves_nothing(tmp_cache):
    config = {"run": "killed"}
    runs = tmp_cache / "runs"
    staged = []

    def kill(epoch, model, history):
        assert _committed(runs) == []  # nothing is visible before the run is complete
        staged.extend(p.name for p in runs.iterdir())
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _tracked(config, scheduler=_Hook(kill))
    assert staged and all(name.startswith(".") for name in staged)   # checkpoints went to a staging folder
    assert list(runs.iterdir()) == []

    history, record = _tracked(config)
    assert history.epochs == record.epochs == 3 and _committed(runs) == [history.run_key]
    cached, cached_record = _tracked(config)
    assert cached.from_cache and cached_record.epochs == 3 and cached_record.loss == record.loss


class _Hook:
    """A 'scheduler' whose step() calls a function: a way into the loop after every epoch."""

    def __init__(self, fn):
        self.fn, self.epoch = fn, 0

    def step(self):
        self.epoch += 1
        self.fn(self.epoch, None, None)


def test_a_finished_run_is_never_rewritten_even_by_a_concurrent_one(tmp_cache, monkeypatch):
    config = {"run": "race"}
    inner = {}
    real_save = run_cache.RunSession.save

    def save_then_race(self, obj, name):
        real_save(self, obj, name)
        if name == "epoch_1.pt" and not inner:  # another process runs the same call to the end meanwhile
            inner["started"] = True
            inner["history"], inner["record"] = _tracked(config)
            inner["folder"] = folder = run_cache.entry_folder(inner["history"])
            inner["stamp"] = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}

    monkeypatch.setattr(run_cache.RunSession, "save", save_then_race)
    outer, record = _tracked(config)
    monkeypatch.setattr(run_cache.RunSession, "save", real_save)
    folder = inner["folder"]
    assert outer.run_key == inner["history"].run_key and not outer.from_cache
    assert outer.test_loss == inner["history"].test_loss and record.loss == inner["record"].loss
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()} == inner["stamp"]
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no staging folder left

    again, again_record = _tracked(config)
    assert again.from_cache and again_record.epochs == again.epochs == 3
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()} == inner["stamp"]


def test_temporaries_of_killed_writers_are_removed(tmp_cache, monkeypatch):
    config = {"run": "stale"}
    monkeypatch.setenv("DLDNA_CACHE_DIR", str(tmp_cache.parent / "probe"))
    key = _run(config, _loader())[2].run_key   # the run's key, learnt in another cache folder
    monkeypatch.setenv("DLDNA_CACHE_DIR", str(tmp_cache))
    folder = tmp_cache / "runs" / key
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    host = os.uname().nodename
    stale_dir = folder.with_name(f".{folder.name}.tmp-{host}-{dead}-0a1b")
    stale_dir.mkdir(parents=True)
    (stale_dir / "epoch_0.pt").write_bytes(b"half")
    live_dir = folder.with_name(f".{folder.name}.tmp-{host}-1-0a1b")  # pid 1 is alive: maybe still writing
    live_dir.mkdir()
    data_tmp = tmp_cache / "data" / f".fashion_mnist_test.pt.tmp-{host}-{dead}-0a1b"
    data_tmp.parent.mkdir(parents=True, exist_ok=True)
    data_tmp.write_bytes(b"half")
    assert _run(config, _loader())[2].run_key == key
    assert not stale_dir.exists() and live_dir.exists()
    from dldna_helpers.storage import save_atomic

    save_atomic({"x": 1}, tmp_cache / "data" / "fashion_mnist_test.pt")
    assert not data_tmp.exists()


def test_a_second_writer_does_not_replace_a_committed_run(tmp_path):
    final = tmp_path / "runs" / "key"
    first, second = RunWriter(final), RunWriter(final)
    first.save({"w": torch.ones(1)}, "epoch_0.pt")
    second.save({"w": torch.zeros(1)}, "epoch_0.pt")
    assert first.commit({"epochs": 0, "final": "epoch_0.pt", "random_start": {}})
    assert not second.commit({"epochs": 0, "final": "epoch_0.pt", "random_start": {}})
    assert torch.equal(torch.load(final / "epoch_0.pt")["w"], torch.ones(1))
    assert sorted(p.name for p in final.parent.iterdir()) == ["key"]


# ------------------------------------------------------------------ 3. divergence
def test_a_diverged_run_returns_the_same_fresh_and_cached_and_stores_valid_json(tmp_cache):
    config = {"run": "diverges"}
    fresh_model, fresh_opt, fresh = _run(config, _loader(), lr=1e4, epochs=4)
    assert fresh.diverged
    cached_model, cached_opt, cached = _run(config, _loader(), lr=1e4, epochs=4)
    assert cached.from_cache and cached.diverged_step == fresh.diverged_step
    _same_state(fresh_model.state_dict(), cached_model.state_dict())
    for a, b in zip(fresh_opt.state_dict()["state"].values(), cached_opt.state_dict()["state"].values()):
        _same_state(a, b)

    def refuse(token):
        raise ValueError(f"bare {token} in JSON")

    for name in ("history.json", "manifest.json"):
        json.loads((run_dir(config) / name).read_text(), parse_constant=refuse)
    assert cached.step_loss[-1] == fresh.step_loss[-1] or np.isnan(fresh.step_loss[-1])
    assert str(cached.step_loss) == str(fresh.step_loss)


def test_a_nan_test_loss_stops_the_run_as_a_divergence():
    class Overflow(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(16, 2)

        def forward(self, x):
            out = self.lin(x.flatten(1))
            return out if self.training else out * float("inf")

    model = Overflow()
    with pytest.warns(RuntimeWarning, match="untrained model is nan"):
        history = train(model, torch.optim.SGD(model.parameters(), lr=0.1), _loader(), TensorLoader(_data(), 64), 3)
    assert history.diverged and history.diverged_epoch == 1 and history.epochs == 0


def test_nan_inputs_are_a_data_problem_not_a_divergence():
    from dldna_helpers.training import DataProblemError

    bad = _data()
    bad.x[5, 0, 1, 1] = float("nan")
    with pytest.raises(DataProblemError, match="non-finite input"):
        _run(None, TensorLoader(bad, 32))
    model = _model()
    with pytest.raises(DataProblemError, match="evaluation batch 0 contains 1 non-finite"):
        train(model, torch.optim.SGD(model.parameters(), lr=0.1), _loader(), TensorLoader(bad, 256), 1)


def test_inputs_found_finite_are_checked_again_after_an_in_place_change():
    """Evaluation checks an in-memory loader's data once, not every epoch; a value written into it
    later (in place, or a new tensor) must still be found."""
    from dldna_helpers.training import DataProblemError, evaluate

    data, model = _data(), _model()
    loader = TensorLoader(data, 64)
    evaluate(model, loader)
    assert loader.inputs_known_finite()
    data.x[3, 0, 0, 0] = float("inf")
    with pytest.raises(DataProblemError, match="evaluation batch 0 contains 1 non-finite"):
        evaluate(model, loader)
    data.x = data.x.clone()
    data.x[3, 0, 0, 0] = 0.0
    evaluate(model, loader)
    data.x = data.x.clone().index_fill_(0, torch.tensor([70]), float("nan"))
    with pytest.raises(DataProblemError, match="evaluation batch 1 contains"):
        evaluate(model, loader)
    assert not TensorLoader(data, 64, augment=lambda x, g: x).inputs_known_finite()


# ------------------------------------------------------------------ 4. damaged caches heal
def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    path.write_bytes(b"\x00garbage\xff" * 3)


@pytest.mark.parametrize("name, damage", [
    ("epoch_3.pt", _truncate), ("epoch_1.pt", _garbage), ("history.json", _truncate),
    ("history.json", _garbage), ("optimizer.pt", _truncate), ("random_state.pt", _garbage),
    ("manifest.json", _garbage), ("manifest.json", lambda p: p.unlink()), ("optimizer.pt", lambda p: p.unlink()),
])
def test_a_damaged_cache_is_reported_by_path_and_recomputed(tmp_cache, name, damage):
    config = {"run": "damaged"}
    _, _, fresh = _run(config, _loader())
    path = run_dir(config) / name
    damage(path)
    with pytest.raises(CacheCorruptError, match="rm -rf"):
        load_checkpoints(config)
    with pytest.warns(CacheWarning, match=str(run_dir(config))):
        _, _, again = _run(config, _loader())
    assert not again.from_cache and again.test_loss == fresh.test_loss
    _, _, healed = _run(config, _loader())
    assert healed.from_cache and healed.test_loss == fresh.test_loss


def _rewrite_manifest(folder, change):
    """Edit a manifest as an older or buggy writer would have written it: consistent hashes."""
    from dldna_helpers.storage import save_atomic

    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    manifest["self_sha256"] = run_cache._self_hash(run_cache.loads_json(json.dumps(manifest)))
    save_atomic(run_cache.loads_json(json.dumps(manifest)), folder / "manifest.json")


def test_an_outdated_record_is_an_error_not_an_empty_list(tmp_cache):
    config = {"run": "outdated"}
    _run(config, _loader())
    folder = run_dir(config)
    blob = json.loads((folder / "history.json").read_text())
    del blob["step_loss"]
    from dldna_helpers.storage import save_atomic

    save_atomic(blob, folder / "history.json")

    def rehash(manifest):
        manifest["files"]["history.json"] = {"bytes": (folder / "history.json").stat().st_size,
                                             "sha256": run_cache._sha256(folder / "history.json")}

    _rewrite_manifest(folder, rehash)  # consistent hashes: only the content is outdated
    with pytest.warns(CacheWarning, match="step_loss"):
        _, _, again = _run(config, _loader())
    assert not again.from_cache and again.step_loss

    _rewrite_manifest(folder, lambda m: m.update(format=1))
    with pytest.warns(CacheWarning, match="format 1"):
        _run(config, _loader())


def test_load_checkpoints_refuses_an_incomplete_run(tmp_cache):
    config = {"run": "incomplete"}
    folder = run_dir(config)
    folder.mkdir(parents=True)
    torch.save({"w": torch.ones(1)}, folder / "epoch_0.pt")  # as an old killed run left it
    with pytest.raises(CacheCorruptError, match="incomplete"):
        load_checkpoints(config)
    with pytest.raises(FileNotFoundError, match="run train"):
        load_checkpoints({"never": "trained"})


# ------------------------------------------------------------------ 5. faithful keys
def test_keys_hash_tensors_and_arrays_by_content():
    assert config_key({"lr": torch.tensor(1e-3)}) != config_key({"lr": torch.tensor(1.04e-3)})
    assert config_key({"lr": torch.tensor(1e-3)}) == config_key({"lr": torch.tensor(1e-3)})
    a = np.zeros(10_000)
    b = a.copy()
    b[5000] = 1.0  # numpy's str() elides the middle of a large array
    assert str(a) == str(b) and config_key({"w": a}) != config_key({"w": b})
    assert config_key({"lr": np.float64(0.1)}) == config_key({"lr": 0.1})
    assert config_key({"betas": (0.9, 0.99)}) == config_key({"betas": [0.9, 0.99]})


@pytest.mark.parametrize("value", [lambda x: x, object(), {1, 2}, nn.ReLU()])
def test_keys_refuse_values_that_do_not_hash_faithfully(value):
    with pytest.raises(TypeError, match=r"cache_config\['opt'\]\[1\].*cannot be part of a cache key"):
        config_key({"opt": ["sgd", value]})


def test_a_cache_that_does_not_fit_leaves_the_model_untouched_before_recomputing(tmp_cache):
    """A stored optimizer state that load_state_dict refuses (here: another optimizer's, with
    consistent hashes) must not leave half-loaded weights behind before the run is recomputed."""
    config = {"run": "misfit"}
    _, _, fresh = _run(config, _loader())
    folder = run_dir(config)
    adam = torch.optim.Adam(_model().parameters())
    torch.save({"state": {}, "param_groups": [{**adam.param_groups[0], "params": [0]}]}, folder / "optimizer.pt")
    _rewrite_manifest(folder, lambda m: m["files"].update({"optimizer.pt": {
        "bytes": (folder / "optimizer.pt").stat().st_size, "sha256": run_cache._sha256(folder / "optimizer.pt")}}))
    with pytest.warns(CacheWarning, match="does not fit"):
        _, _, history = _run(config, _loader())
    assert not history.from_cache and history.step_loss == fresh.step_loss


RACE_SCRIPT = """
import os, pathlib, sys, time, torch
sys.path.insert(0, sys.argv[1])
from test_run_cache import _data, _loader, _model
from dldna_helpers import run_cache
from dldna_helpers.data import TensorLoader
from dldna_helpers.dynamics import tracked_train

barrier, commit = pathlib.Path(sys.argv[2]), run_cache.RunWriter.commit
def commit_together(self, *args, **kwargs):  # both processes reach the commit before either commits
    (barrier / str(os.getpid())).touch()
    deadline = time.time() + 120
    while len(list(barrier.iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.02)
    return commit(self, *args, **kwargs)
run_cache.RunWriter.commit = commit_together
model = _model()
history, record = tracked_train(model, torch.optim.SGD(model.parameters(), lr=0.1), _loader(),
                                TensorLoader(_data(), 64), 8, cache_config={"run": "two processes"})
print(history.from_cache, history.epochs, record.epochs)
"""


def test_two_processes_running_the_same_configuration_leave_one_consistent_run(tmp_cache):
    env = {**os.environ, "DLDNA_CACHE_DIR": str(tmp_cache)}
    tests = os.path.dirname(os.path.abspath(__file__))
    barrier = tmp_cache.parent / "barrier"
    barrier.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", RACE_SCRIPT, tests, str(barrier)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    assert sorted(out.split()[0] for out, _ in outputs) == ["False", "False"]  # both trained, in parallel
    assert all(out.split()[1:] == ["8", "8"] for out, _ in outputs)
    folder = run_dir({"run": "two processes", "dynamics_format": DYNAMICS_FORMAT})
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no staging folder left behind
    model = _model()
    history, record = tracked_train(model, torch.optim.SGD(model.parameters(), lr=0.1), _loader(),
                                    TensorLoader(_data(), 64), 8, cache_config={"run": "two processes"})
    assert history.from_cache and history.epochs == record.epochs == 8


def test_tracked_runs_cache_without_a_configuration(tmp_cache):
    """tracked_train(..., cache=True): the key is derived, the dynamics record comes back with the run."""
    def run():
        model = _model()
        return tracked_train(model, torch.optim.SGD(model.parameters(), lr=0.1), _loader(),
                             TensorLoader(_data(), 64), 3, cache=True)

    fresh, record = run()
    cached, cached_record = run()
    assert not fresh.from_cache and cached.from_cache and cached.run_key == fresh.run_key
    assert cached_record.loss == record.loss and cached_record.layer_grad_norms[1:] == record.layer_grad_norms[1:]
