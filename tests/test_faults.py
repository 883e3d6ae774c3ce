"""Fault injection: every failure listed in issue 30 ("Nothing stale, nothing hangs"), re-created.

Each test sets up the fault the issue found (a stale key, an edited manifest, swapped folders, a
corrupted data cache, Ctrl-C during a hung parallel task, a NaN gradient under a sign-based
optimizer, an unusable cache folder, a full or read-only disk, bad environment variables, the
offline data instructions) and checks what must happen now. The answer-parsing item of the
issue is tested with the exercise checkers (tests/test_checkers.py).
"""
from __future__ import annotations

import errno
import gzip
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from dldna_helpers import data, env, parallel, run_cache, storage
from dldna_helpers.data import TensorData, TensorLoader
from dldna_helpers.optim import Lion, Sophia
from dldna_helpers.result_cache import cached
from dldna_helpers.run_cache import CacheCorruptError, CacheWarning
from dldna_helpers.training import load_checkpoints, load_record, train

from test_data import _write_idx, fake_debian  # noqa: F401  (a fixture: a tiny FashionMNIST in Debian's layout)
from test_parallel import one_thread  # noqa: F401  (autouse: one torch thread, DLDNA_JOBS unset)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _data(n=160, seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, generator=gen, dtype=dtype)
    return TensorData(x, (x.flatten(1).sum(1) > 0).long(), ("neg", "pos"), "toy")


class Scaled(nn.Module):
    """A model with an attribute outside its state dict that changes what it computes."""

    def __init__(self, activation="relu", scale=1.0):
        super().__init__()
        torch.manual_seed(0)
        self.lin1, self.lin2 = nn.Linear(16, 8), nn.Linear(8, 2)
        self.act = nn.ReLU() if activation == "relu" else nn.Tanh()
        self.scale = scale

    def forward(self, x):
        return self.lin2(self.act(self.lin1(x.flatten(1)))) * self.scale


def _call(change: str | None = None):
    """The arguments of one train() call, with one thing changed (the issue's stale-key list)."""
    seed = 1 if change == "init seed" else 0
    torch.manual_seed(seed)
    model = Scaled(activation="tanh" if change == "activation" else "relu",
                   scale=2.0 if change == "attribute outside the state dict" else 1.0)
    if seed:
        torch.manual_seed(seed)
        for p in model.parameters():
            nn.init.normal_(p, std=0.3)
    if change == "float64 model":
        model = model.double()
    dtype = torch.float64 if change == "float64 model" else torch.float32
    lr = 0.2 if change == "lr" else 0.1
    optimizer = (torch.optim.Adam(model.parameters(), lr=lr) if change == "optimizer class"
                 else torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9))
    augment = (lambda x, g: x + 0.1 * torch.randn(x.shape, generator=g, dtype=x.dtype)) if change == "augmentation" else None
    kwargs = {
        "loss_fn": nn.CrossEntropyLoss(label_smoothing=0.1 if change == "label smoothing" else 0.0),
        "scheduler": torch.optim.lr_scheduler.StepLR(optimizer, 1, 0.5) if change == "scheduler" else None,
        "clip_grad_norm": 0.5 if change == "clipping" else None,
        "divergence_loss": 5.0 if change == "divergence threshold" else 1e4,
    }
    loaders = (TensorLoader(_data(dtype=dtype), 32, shuffle=True, seed=0, augment=augment),
               TensorLoader(_data(dtype=dtype), 80))
    epochs = 5 if change == "epochs" else 4
    return model, optimizer, loaders, epochs, kwargs


STALE = ["lr", "init seed", "activation", "label smoothing", "scheduler", "optimizer class", "augmentation",
         "float64 model", "clipping", "epochs", "attribute outside the state dict", "divergence threshold"]


# ------------------------------------------------------------------ 1. stale keys
@pytest.mark.parametrize("change", STALE)
def test_the_same_cache_config_never_serves_another_call(tmp_cache, change):
    model, opt, (tr, te), epochs, kw = _call()
    base = train(model, opt, tr, te, epochs, cache_config={"page": "same key"}, **kw)
    model, opt, (tr, te), epochs, kw = _call(change)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        changed = train(model, opt, tr, te, epochs, cache_config={"page": "same key"}, **kw)
    model, opt, (tr, te), epochs, kw = _call(change)
    reference = train(model, opt, tr, te, epochs, **kw)
    assert not changed.from_cache and changed.run_key != base.run_key
    assert changed.step_loss == reference.step_loss and changed.epochs == reference.epochs
    model, opt, (tr, te), epochs, kw = _call(change)
    again = train(model, opt, tr, te, epochs, cache_config={"page": "same key"}, **kw)
    assert again.from_cache and again.step_loss == reference.step_loss


def test_an_optimizer_edited_and_reloaded_in_the_same_kernel_is_trained_again(tmp_cache, tmp_path, monkeypatch):
    source = textwrap.dedent("""
        import torch
        class MySGD(torch.optim.SGD):
            def step(self, closure=None):
                return super().step(closure)
    """)
    (tmp_path / "my_optim.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    my_optim = importlib.import_module("my_optim")

    def run():
        model = Scaled()
        return train(model, my_optim.MySGD(model.parameters(), lr=0.1), TensorLoader(_data(), 32, shuffle=True),
                     TensorLoader(_data(), 80), 2, cache=True)

    first = run()
    assert run().from_cache
    (tmp_path / "my_optim.py").write_text(source.replace("super().step(closure)",
                                                         "super().step(closure)\n        # edited"))
    importlib.reload(my_optim)   # what %autoreload does
    assert run().from_cache      # a comment is not code
    (tmp_path / "my_optim.py").write_text(source.replace("return super().step(closure)",
                                                         "for g in self.param_groups:\n            g['lr'] = 0.05\n"
                                                         "        return super().step(closure)"))
    importlib.reload(my_optim)
    edited = run()
    assert not edited.from_cache and edited.step_loss != first.step_loss


def test_a_hit_leaves_the_scheduler_and_optimizer_as_a_fresh_run_does(tmp_cache):
    def run():
        model = Scaled()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = torch.optim.lr_scheduler.StepLR(opt, 1, 0.5)
        history = train(model, opt, TensorLoader(_data(), 32, shuffle=True), TensorLoader(_data(), 80), 3,
                        scheduler=sched, cache=True)
        return history, opt, sched

    fresh, opt_f, sched_f = run()
    warm, opt_w, sched_w = run()
    assert warm.from_cache
    assert sched_w.last_epoch == sched_f.last_epoch == 3 and sched_w.get_last_lr() == sched_f.get_last_lr()
    assert opt_w.param_groups[0]["lr"] == opt_f.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)
    for a, b in zip(opt_f.state_dict()["state"].values(), opt_w.state_dict()["state"].values()):
        assert torch.equal(a["momentum_buffer"], b["momentum_buffer"])


def test_cached_restores_the_random_state_like_train(tmp_cache):
    def noise(n):
        return torch.randn(n)

    torch.manual_seed(3)
    cached(noise, 5)
    after_empty = torch.randn(3)
    torch.manual_seed(3)
    cached(noise, 5)
    assert torch.equal(torch.randn(3), after_empty)


# ------------------------------------------------------------------ 2. the manifest protects itself
def _trained(epochs=4, config=None):
    model = Scaled()
    return train(model, torch.optim.SGD(model.parameters(), lr=0.1), TensorLoader(_data(), 32, shuffle=True),
                 TensorLoader(_data(), 80), epochs, cache_config=config, cache=True)


def _edit(folder, change, rehash=False):
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    if rehash:   # what a buggy writer (not a stray edit) would leave: consistent, but wrong
        manifest = run_cache.loads_json(json.dumps(manifest))
        manifest["self_sha256"] = run_cache._self_hash(manifest)
    (folder / "manifest.json").write_text(storage.dumps_json(manifest) if rehash else json.dumps(manifest))


@pytest.mark.parametrize("what, change, rehash, message", [
    ("final file", lambda m: m.update(final="epoch_2.pt"), False, "changed after it was written"),
    ("epoch count", lambda m: m.update(epochs=2), True, r"unexpected \['epoch_3.pt', 'epoch_4.pt'\]"),
    ("one files entry", lambda m: m["files"].pop("epoch_2.pt"), True, r"missing \['epoch_2.pt'\]"),
    ("random start digit", lambda m: m["random_start"].update(
        digest=("1" if m["random_start"]["digest"][0] != "1" else "2") + m["random_start"]["digest"][1:]),
     False, "changed after it was written"),
])
def test_an_edited_manifest_is_detected_and_the_run_rebuilt(tmp_cache, what, change, rehash, message):
    fresh = _trained(config={"m": what})
    folder = tmp_cache / "runs" / fresh.run_key
    _edit(folder, change, rehash)
    with pytest.raises(CacheCorruptError, match=message):
        load_checkpoints(fresh)
    with pytest.warns(CacheWarning, match=message):
        again = _trained(config={"m": what})
    assert not again.from_cache and again.test_loss == fresh.test_loss and again.epochs == 4
    healed = _trained(config={"m": what})
    assert healed.from_cache and [e for e, _ in load_checkpoints(healed)] == [0, 1, 2, 3, 4]


def test_swapped_run_folders_are_never_served_for_each_other(tmp_cache):
    a, b = _trained(epochs=3), _trained(epochs=4)
    fa, fb = tmp_cache / "runs" / a.run_key, tmp_cache / "runs" / b.run_key
    fa.rename(fa.with_name("swap"))
    fb.rename(fa)
    fa.with_name("swap").rename(fb)
    with pytest.warns(CacheWarning, match="belongs to entry"):
        again_a = _trained(epochs=3)
    assert not again_a.from_cache and again_a.test_loss == a.test_loss


def test_a_copied_folder_made_by_another_call_names_the_difference(tmp_cache):
    a, b = _trained(epochs=3), _trained(epochs=4)
    fa, fb = tmp_cache / "runs" / a.run_key, tmp_cache / "runs" / b.run_key
    shutil.rmtree(fa)
    shutil.copytree(fb, fa)
    _edit(fa, lambda m: m.update(key=a.run_key), rehash=True)   # even with its key rewritten
    with pytest.warns(CacheWarning, match=r"another call.*request\.epochs: 4 → 3"):
        again = _trained(epochs=3)
    assert not again.from_cache and again.epochs == 3


def test_other_starting_weights_than_the_stored_epoch_0_are_refused(tmp_cache):
    fresh = _trained()
    folder = tmp_cache / "runs" / fresh.run_key
    state = torch.load(folder / "epoch_0.pt")
    state["lin1.bias"] = state["lin1.bias"] + 1.0
    torch.save(state, folder / "epoch_0.pt")
    _edit(folder, lambda m: m["files"].update({"epoch_0.pt": {
        "bytes": (folder / "epoch_0.pt").stat().st_size, "sha256": run_cache._sha256(folder / "epoch_0.pt")}}),
        rehash=True)
    with pytest.warns(CacheWarning, match="starting weights differ.*lin1.bias"):
        again = _trained()
    assert not again.from_cache and again.test_loss == fresh.test_loss


# ------------------------------------------------------------------ 3. the decoded data cache is verified
def _flip_pixel(cached, tmp_cache):
    blob = torch.load(cached)
    blob["images"][3, 10, 10] ^= 1
    torch.save(blob, cached)


def _test_over_train(cached, tmp_cache):
    shutil.copy(tmp_cache / "data" / "fashion_mnist_test.pt", cached)


def _five_blank(cached, tmp_cache):
    torch.save({"images": torch.zeros(5, 28, 28, dtype=torch.uint8), "labels": torch.zeros(5, dtype=torch.long),
                "source": "FashionMNIST (Debian dataset-fashion-mnist)"}, cached)


def _nan_images(cached, tmp_cache):
    blob = torch.load(cached)
    blob["images"] = torch.full(blob["images"].shape, float("nan"))
    torch.save(blob, cached)


@pytest.mark.parametrize("damage", [_flip_pixel, _test_over_train, _five_blank, _nan_images])
def test_a_corrupted_data_cache_is_refused_and_decoded_again(fake_debian, tmp_cache, damage):
    truth = data.load_fashion_mnist(train=True)
    data.load_fashion_mnist(train=False)
    cached = tmp_cache / "data" / "fashion_mnist_train.pt"
    damage(cached, tmp_cache)
    with pytest.warns(RuntimeWarning, match=str(cached)):
        again = data.load_fashion_mnist(train=True)
    assert torch.equal(again.x, truth.x) and torch.equal(again.y, truth.y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.equal(data.load_fashion_mnist(train=True).x, truth.x)   # healed


# ------------------------------------------------------------------ 4. map_runs can be interrupted
HUNG = textwrap.dedent("""
    import os, signal, sys, time, torch
    # Ctrl-C raises KeyboardInterrupt, as in a Jupyter kernel, even when this test runs under a shell
    # that started it in the background (bash then hands every child SIGINT ignored, and Python keeps
    # an ignored SIGINT ignored: the child would never hear the interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    torch.set_num_threads(1)
    from dldna_helpers.parallel import map_runs

    def task(k):
        if k == 1:
            while True:          # a hung task
                time.sleep(0.05)
        time.sleep(0.3)
        return k

    print("started", flush=True)
    try:
        map_runs(task, range(8), jobs=2)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    def parent_of(pid):   # None for a process that ended between listing /proc and reading it
        try:
            return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1]
        except (FileNotFoundError, ProcessLookupError):
            return None

    children = [p for p in os.listdir("/proc") if p.isdigit() and parent_of(p) == str(os.getpid())]
    print("children", len(children), flush=True)
""")

needs_two_cpus = pytest.mark.skipif(sys.platform != "linux" or parallel.usable_cpus() < 2,
                                    reason="map_runs forks workers on Linux with two usable CPUs")


@needs_two_cpus
@pytest.mark.parametrize("delay", [0.0, 2.0])
def test_ctrl_c_stops_map_runs_with_a_hung_task_within_a_second(delay):
    """At 2 s both workers are busy; at 0 s the interrupt lands while map_runs starts: under load it
    was lost inside numpy's lazy import of numpy.random or in os.fork's at-fork hooks."""
    proc = subprocess.Popen([sys.executable, "-c", HUNG], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT})
    import select

    def read_line(seconds: float) -> str:   # bounded: a child that never answers fails, never hangs the suite
        ready, _, _ = select.select([proc.stdout], [], [], seconds)
        return proc.stdout.readline().strip() if ready else "(no answer)"

    try:
        assert read_line(120) == "started"
        time.sleep(delay)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        line = read_line(30)
        latency = time.monotonic() - sent
        rest = read_line(30) if line == "interrupted" else ""
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert line == "interrupted" and latency < 1.0, (line, latency)
    assert "children 0" in rest   # no worker left behind


def _sleepy(k):
    time.sleep(30 if k == 2 else 0.05)
    return k


@needs_two_cpus
def test_a_task_that_runs_too_long_is_stopped_by_its_timeout():
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"task 2 \(2,\) of map_runs ran longer than 1.0 s"):
        parallel.map_runs(_sleepy, range(4), jobs=2, timeout=1.0)
    assert time.monotonic() - start < 5


def test_a_serial_task_that_runs_too_long_is_stopped_by_its_timeout():
    with pytest.raises(TimeoutError, match="ran longer than 0.5 s"):
        parallel.map_runs(_sleepy, [2], timeout=0.5)


def _exits(k):
    if k == 3:
        os._exit(3)
    return k


@needs_two_cpus
def test_a_dead_worker_names_its_task_and_exit_code():
    with pytest.raises(RuntimeError, match=r"died before finishing task 3 \(3,\) \(exit code 3\).*DLDNA_JOBS=1"):
        parallel.map_runs(_exits, range(5), jobs=2)


def test_workers_never_outnumber_the_usable_cpus(monkeypatch):
    monkeypatch.setattr(parallel, "_capped_note_given", False)
    monkeypatch.setenv(parallel.JOBS_ENV, "1000")
    if parallel.serial_reason() is not None:
        pytest.skip(parallel.serial_reason())
    with pytest.warns(parallel.JobsCappedWarning, match="DLDNA_JOBS=1000 asks for more"):
        assert parallel.worker_count(50) == parallel.usable_cpus()


@pytest.mark.parametrize("value", ["²", "٣", "1e3", " ", "1 2"])
def test_a_bad_jobs_variable_is_named(monkeypatch, value):
    monkeypatch.setenv(parallel.JOBS_ENV, value)
    if not value.strip():
        assert parallel.jobs_from_env() is None
        return
    with pytest.raises(ValueError, match="DLDNA_JOBS must be a positive integer"):
        parallel.jobs_from_env()


MEMORY = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    sys.path.insert(0, sys.argv[1])
    from dldna_helpers.parallel import map_runs

    def hwm():
        return int([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]) / 1024

    def big(k):
        return torch.full((50 * 2**20 // 4,), float(k))   # 50 MB each

    base = hwm()
    out = map_runs(big, range(6), jobs=2)
    print((hwm() - base) / 300)
""")


@needs_two_cpus
def test_the_parent_does_not_hold_the_results_twice():
    done = subprocess.run([sys.executable, "-c", MEMORY, ROOT], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ratio = float(done.stdout.split()[-1])
    assert ratio < 1.5, ratio   # was about 2.2 when every result was kept as bytes and as objects


# ------------------------------------------------------------------ 5. sign-based steps and non-finite gradients
@pytest.mark.parametrize("optimizer", [Lion, Sophia])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_sign_based_step_does_not_freeze_on_a_non_finite_gradient(optimizer, bad):
    p = nn.Parameter(torch.ones(3))
    opt = optimizer([p], lr=0.1)
    p.grad = torch.tensor([1.0, bad, -1.0])
    opt.step()
    assert torch.isfinite(p[[0, 2]]).all() and not torch.isfinite(p[1])   # seen, not frozen at 1.0


def test_the_training_loop_reports_a_non_finite_gradient_as_divergence():
    model = Scaled()
    opt = Lion(model.parameters(), lr=1e-3)
    steps = []

    def poison(m):
        steps.append(1)
        if len(steps) == 7:
            m.lin1.weight.grad[0, 0] = float("nan")

    before = {}

    def remember(m):
        poison(m)
        if len(steps) == 7:
            before.update({k: v.clone() for k, v in m.state_dict().items()})

    history = train(model, opt, TensorLoader(_data(), 32, shuffle=True), TensorLoader(_data(), 80), 3,
                    after_backward=remember)
    assert history.diverged and history.diverged_step == 7 and history.status().startswith("발산")
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())   # stopped before the step


# ------------------------------------------------------------------ 6. cache folders: clear errors, no lost work
@pytest.mark.parametrize("where", ["file", "/dev/null", "/proc/x", "loop"])
def test_an_unusable_cache_folder_names_the_variable_and_the_fix(tmp_path, monkeypatch, where):
    if where == "file":
        target = tmp_path / "a_file"
        target.write_text("x")
    elif where == "loop":
        target = tmp_path / "loop"
        target.symlink_to(target)
    else:
        target = where
    monkeypatch.setenv(env.CACHE_ENV, str(target))
    with pytest.raises(env.CacheDirError, match=r"DLDNA_CACHE_DIR=.*%env DLDNA_CACHE_DIR=~/.cache/dldna"):
        env.cache_dir("runs")
    with pytest.warns(CacheWarning, match="DLDNA_CACHE_DIR"):
        history = _trained()   # no lost work: trained, returned uncached
    assert not history.from_cache and history.run_key is None and history.epochs == 4


def test_a_tilde_in_the_cache_variable_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(env.CACHE_ENV, "~/dldna-cache")
    monkeypatch.chdir(tmp_path)
    assert env.cache_dir("runs") == tmp_path / "home" / "dldna-cache" / "runs"
    assert not (tmp_path / "~").exists()


def test_the_suggested_fix_command_works_on_a_path_with_a_quote(tmp_path, monkeypatch):
    cache = tmp_path / "it's a cache"
    monkeypatch.setenv(env.CACHE_ENV, str(cache))
    fresh = _trained()
    folder = cache / "runs" / fresh.run_key
    (folder / "epoch_1.pt").write_bytes(b"damaged")
    with pytest.raises(CacheCorruptError) as err:
        load_checkpoints(fresh)
    command = str(err.value).split("`")[1]
    subprocess.run(["bash", "-c", command], check=True)
    assert not folder.exists() and cache.exists()


def _full_disk(monkeypatch, after: int, error: BaseException):
    """torch.save fails with ``error`` from the ``after``-th call on (as on a full disk)."""
    real, calls = torch.save, []

    def save(obj, f, *args, **kwargs):
        if isinstance(f, (str, os.PathLike)):   # a file, not an in-memory buffer
            calls.append(1)
            if len(calls) >= after:
                raise error
        return real(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)


@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device"),
    RuntimeError("[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed writing file data/0: "
                 "file write failed"),
])
@pytest.mark.parametrize("after", [1, 3, 6])   # at epoch 0, in the middle, while recording
def test_a_full_disk_warns_and_returns_the_trained_run(tmp_cache, monkeypatch, error, after):
    model = Scaled()
    expected = train(model, torch.optim.SGD(model.parameters(), lr=0.1), TensorLoader(_data(), 32, shuffle=True),
                     TensorLoader(_data(), 80), 4)
    _full_disk(monkeypatch, after, error)
    with pytest.warns(CacheWarning, match="could not be stored.*returned without caching"):
        history = _trained()
    assert history.step_loss == expected.step_loss and not history.from_cache and history.run_key is None
    assert not list((tmp_cache / "runs").iterdir())   # nothing half-written left


def test_a_full_disk_keeps_the_data_loading(fake_debian, tmp_cache, monkeypatch):
    _full_disk(monkeypatch, 1, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.warns(RuntimeWarning, match="could not be cached.*No space left on device"):
        loaded = data.load_fashion_mnist(train=True)
    assert len(loaded) == 30 and not (tmp_cache / "data" / "fashion_mnist_train.pt").exists()


def test_a_full_disk_keeps_cached_results_computing(tmp_cache, monkeypatch):
    _full_disk(monkeypatch, 1, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.warns(CacheWarning, match="No space left on device"):
        value = cached(lambda n: torch.arange(n), 3)
    assert torch.equal(value, torch.arange(3))


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A real 64 KiB file system (root only; skipped elsewhere)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root); the simulated ENOSPC tests cover it")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk_warns_and_returns_the_trained_run(tiny_tmpfs, monkeypatch):
    monkeypatch.setenv(env.CACHE_ENV, str(tiny_tmpfs))
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2048), nn.ReLU(), nn.Linear(2048, 2))   # ~150 KiB a checkpoint
    torch.manual_seed(0)
    with pytest.warns(CacheWarning, match="disk is full"):
        history = train(model, torch.optim.SGD(model.parameters(), lr=0.01), TensorLoader(_data(), 32),
                        TensorLoader(_data(), 80), 2, cache=True)
    assert history.epochs == 2 and not history.diverged and history.run_key is None
    assert not [p for p in (tiny_tmpfs / "runs").iterdir()]


def test_a_read_only_cache_still_serves_hits_and_trains_uncached(tmp_cache, monkeypatch):
    fresh = _trained()
    real_mkdir = os.mkdir

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(os, "mkdir", read_only)   # every staging folder (and new folder) fails
    assert _trained().from_cache                  # what is there is still read
    with pytest.warns(CacheWarning, match="Read-only file system"):
        other = _trained(epochs=2)
    assert other.epochs == 2 and not other.from_cache
    monkeypatch.setattr(os, "mkdir", real_mkdir)


def test_a_symlink_loop_at_the_key_is_replaced(tmp_cache):
    fresh = _trained()
    folder = tmp_cache / "runs" / fresh.run_key
    shutil.rmtree(folder)
    folder.symlink_to(folder)
    with pytest.warns(CacheWarning, match="not a folder"):
        again = _trained()
    assert not again.from_cache and folder.is_dir() and not folder.is_symlink()
    assert _trained().from_cache


def test_an_unreadable_cached_file_is_not_called_damaged(tmp_cache, monkeypatch):
    fresh = _trained()
    folder = tmp_cache / "runs" / fresh.run_key
    real_open = open

    def refuse(path, *args, **kwargs):
        if str(path).endswith("epoch_4.pt"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(CacheCorruptError, match="cannot be read \\(permission denied\\).*chmod"):
        load_checkpoints(fresh)
    assert (folder / "epoch_4.pt").exists()


def test_an_unreadable_data_file_is_not_called_damaged(fake_debian, monkeypatch):
    real_open = gzip.open

    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(gzip, "open", refuse)
    with pytest.raises(data.DataFileError, match="permission denied \\(the file is not damaged"):
        data.load_fashion_mnist(train=True)
    monkeypatch.setattr(gzip, "open", real_open)


# ------------------------------------------------------------------ 7. profile sizes that do not fit together
@pytest.mark.parametrize("text, message", [
    ('{"cifar_seeds": [0, 0, 0]}', "cifar_seeds must list different seeds"),
    ('{"optim_seeds": [3, 4, 3]}', "optim_seeds must list different seeds"),
    ('{"sharpness_train": 2000}', "sharpness_train=2000 is larger than fmnist_train=1000"),
])
def test_profile_sizes_that_cannot_work_are_refused_up_front(monkeypatch, text, message):
    sizes = json.loads(text)
    monkeypatch.setenv(env.SIZES_ENV, json.dumps({"fmnist_train": 1000, **sizes}))
    with pytest.raises(ValueError, match=message):
        env.get_profile("quick")


def test_the_named_profiles_fit_together():
    for profile in env.PROFILES.values():
        assert env.check_profile(profile) is profile


# ------------------------------------------------------------------ 8. offline FashionMNIST
def _offline_files(folder, gzipped):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for prefix, n in (("train", 20), ("t10k", 10)):
        for kind, array in (("images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28))),
                            ("labels-idx1-ubyte", np.arange(n) % 10)):
            path = folder / (f"{prefix}-{kind}" + (".gz" if gzipped else ""))
            if gzipped:
                _write_idx(path, array)
            else:
                header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
                path.write_bytes(header + array.astype(np.uint8).tobytes())


def _offline(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST",
                        lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("offline")))


@pytest.mark.parametrize("gzipped", [True, False])
def test_the_offline_instruction_works_and_the_source_says_where_the_data_came_from(
        tmp_cache, tmp_path, monkeypatch, gzipped):
    _offline(monkeypatch, tmp_path)
    with pytest.raises(data.DataUnavailableError) as err:
        data.load_fashion_mnist(train=True)
    folder = data.offline_folder()
    assert str(folder) in str(err.value) and "t10k-labels-idx1-ubyte.gz" in str(err.value)
    _offline_files(folder, gzipped)   # do what the message says
    loaded = data.load_fashion_mnist(train=True)
    assert len(loaded) == 20 and loaded.source == f"FashionMNIST (IDX 파일: {folder})"
    assert data.load_fashion_mnist(train=True).source == loaded.source   # kept through the decoded cache


def test_files_already_in_torchvisions_folder_are_not_called_a_download(tmp_cache, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    raw = tmp_cache / "data" / "torchvision" / "FashionMNIST" / "raw"
    _offline_files(raw, gzipped=False)
    import torchvision.datasets

    real = torchvision.datasets.FashionMNIST

    class FashionMNIST(real):   # torchvision's folder is named after the class
        def download(self):
            if not self._check_exists():
                raise urllib.error.URLError("offline")

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", FashionMNIST)
    loaded = data.load_fashion_mnist(train=False)
    assert "torchvision 폴더의 파일" in loaded.source and "다운로드" not in loaded.source


def test_load_record_finds_records_of_a_cached_run(tmp_cache):
    model = Scaled()
    history = train(model, torch.optim.SGD(model.parameters(), lr=0.1), TensorLoader(_data(), 32),
                    TensorLoader(_data(), 80), 1, cache=True, extra_records=lambda h: {"note": {"n": h.epochs}})
    assert load_record(history, "note") == {"n": 1}
