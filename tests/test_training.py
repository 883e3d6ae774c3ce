import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from dldna_helpers import run_cache, training
from dldna_helpers.data import TensorData, TensorLoader
from dldna_helpers.training import (
    History, config_key, evaluate, global_grad_norm, load_checkpoints, run_dir, save_atomic, train,
)


def _toy_loaders(n=256, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, generator=gen)
    y = (x.flatten(1).sum(1) > 0).long()
    data = TensorData(x, y, ("neg", "pos"), "toy")
    return TensorLoader(data, 32, shuffle=True, seed=seed), TensorLoader(data, 64)


def _model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2))


def test_training_learns_and_records_every_epoch():
    train_loader, test_loader = _toy_loaders()
    model = _model()
    history = train(model, torch.optim.SGD(model.parameters(), lr=0.1), train_loader, test_loader, 5)
    assert history.epochs == 5 and len(history.train_loss) == 6 and len(history.grad_norm) == 6
    assert math.isnan(history.grad_norm[0]) and all(g > 0 for g in history.grad_norm[1:])
    assert history.test_loss[-1] < history.test_loss[0] and history.test_acc[-1] > 0.8
    assert len(history.step_loss) == 5 * len(train_loader) and history.status() == "완료"


def test_divergence_is_detected_and_reported():
    train_loader, test_loader = _toy_loaders()
    model = _model()
    history = train(model, torch.optim.SGD(model.parameters(), lr=1e6), train_loader, test_loader, 5)
    assert history.diverged and history.diverged_step >= 1
    assert history.status().startswith("발산") and str(history.diverged_step) in history.status()
    assert history.epochs < 5  # stopped early, no nan epochs appended
    assert all(math.isfinite(v) for v in history.test_loss)


def test_global_grad_norm_is_norm_of_concatenation():
    model = _model()
    x, y = torch.randn(8, 1, 4, 4), torch.randint(0, 2, (8,))
    nn.CrossEntropyLoss()(model(x), y).backward()
    flat = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert global_grad_norm(model.parameters()) == pytest.approx(float(flat.norm()), rel=1e-6)
    per_tensor_sum = sum(float(p.grad.norm()) for p in model.parameters())
    assert global_grad_norm(model.parameters()) < per_tensor_sum


def test_clipping_by_norm_bounds_the_update():
    train_loader, test_loader = _toy_loaders()
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    train(model, opt, [next(iter(train_loader))], test_loader, 1, clip_grad_norm=1e-3)
    step = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before)])
    assert float(step.norm()) <= 1e-3 * 1.0001
    with pytest.raises(ValueError, match="clip_grad_norm"):
        train(model, opt, train_loader, test_loader, 1, clip_grad_norm=0)


def test_evaluate_accepts_a_tensor_tuple_and_rejects_empty_data():
    model = _model()
    x, y = torch.randn(10, 1, 4, 4), torch.randint(0, 2, (10,))
    loss, acc = evaluate(model, (x, y))
    assert loss > 0 and 0 <= acc <= 1
    with pytest.raises(ValueError, match="empty"):
        evaluate(model, [])
    with pytest.raises(ValueError, match="epochs"):
        train(model, torch.optim.SGD(model.parameters(), lr=0.1), [(x, y)], (x, y), -1)


def test_checkpoint_cache_reuses_identical_calls_only(tmp_cache):
    train_loader, test_loader = _toy_loaders()
    model = _model()
    first = train(model, torch.optim.SGD(model.parameters(), lr=0.1), train_loader, test_loader, 3, cache=True)
    folder = tmp_cache / "runs" / first.run_key
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["epoch_0.pt", "epoch_1.pt", "epoch_2.pt", "epoch_3.pt", "history.json", "manifest.json",
                     "optimizer.pt", "random_state.pt"]

    same = _model()
    train_loader, _ = _toy_loaders()  # the same data order as the first run
    second = train(same, torch.optim.SGD(same.parameters(), lr=0.1), train_loader, test_loader, 3, cache=True)
    assert second.from_cache and second.test_loss == first.test_loss and second.run_key == first.run_key
    for a, b in zip(model.state_dict().values(), same.state_dict().values()):
        assert torch.equal(a, b)

    other = _model(seed=1)  # other starting weights: another run, never the cached one
    train_loader, _ = _toy_loaders()
    third = train(other, torch.optim.SGD(other.parameters(), lr=0.1), train_loader, test_loader, 3, cache=True)
    assert not third.from_cache and third.test_loss != first.test_loss

    train_loader, _ = _toy_loaders()
    fourth = train(_model(), torch.optim.SGD(_model().parameters(), lr=0.2), train_loader, test_loader, 3,
                   cache=True)
    assert not fourth.from_cache

    assert [e for e, _ in load_checkpoints(first)] == [0, 1, 2, 3]
    assert [e for e, _ in load_checkpoints(first.run_key)] == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="cache=True"):
        load_checkpoints(train(_model(), torch.optim.SGD(_model().parameters(), lr=0.1), [(torch.randn(4, 1, 4, 4),
                               torch.zeros(4, dtype=torch.long))], test_loader, 1))


def test_a_cache_config_is_extra_key_material_and_finds_its_run(tmp_cache):
    """Pages written before keys were derived pass cache_config: it turns caching on, adds to the
    key, and load_checkpoints(config) still finds the run."""
    config = {"model": "toy", "lr": 0.1, "epochs": 2}
    train_loader, test_loader = _toy_loaders()
    first = train(_model(), torch.optim.SGD(_model().parameters(), lr=0.1), train_loader, test_loader, 2,
                  cache_config=config)
    train_loader, _ = _toy_loaders()
    model = _model()
    plain = train(model, torch.optim.SGD(model.parameters(), lr=0.1), train_loader, test_loader, 2, cache=True)
    assert not plain.from_cache and plain.run_key != first.run_key   # the configuration is part of the key
    assert [e for e, _ in load_checkpoints(config)] == [0, 1, 2]
    assert run_dir(config).name == first.run_key


def test_cache_written_by_other_code_or_threads_is_not_read_back(tmp_cache, monkeypatch):
    """A cache is keyed by the helpers' source and the thread count too, not only by the
    page's configuration: a result computed by an older version must be recomputed."""
    config = {"model": "toy", "lr": 0.1, "epochs": 1, "seed": 0}
    train_loader, test_loader = _toy_loaders()
    first = train(_model(), torch.optim.SGD(_model().parameters(), lr=0.1), train_loader, test_loader, 1,
                  cache_config=config)
    assert not first.from_cache
    key = config_key(config)

    train_loader, _ = _toy_loaders()
    monkeypatch.setattr(run_cache, "code_fingerprint", lambda: "edited-helpers")
    assert config_key(config) != key
    again = train(_model(), torch.optim.SGD(_model().parameters(), lr=0.1), train_loader, test_loader, 1,
                  cache_config=config)
    assert not again.from_cache
    monkeypatch.undo()

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(threads + 1)
        assert config_key(config) != key
    finally:
        torch.set_num_threads(threads)
    assert config_key(config) == key


def test_the_code_fingerprint_covers_what_runs_and_is_read_at_call_time(tmp_path, monkeypatch):
    """Editing a module a run executes (or one the optimizer, model or hooks come from) changes the
    key at once, without restarting; editing a message in checkers.py or a profile in env.py does not."""
    from dldna_helpers import keys

    package = Path(training.__file__).resolve().parent
    copy = tmp_path / "dldna_helpers"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(keys, "PACKAGE_DIR", copy)
    before = training.code_fingerprint()
    lion, dynamics = keys.module_fingerprint("dldna_helpers.optim.lion"), keys.module_fingerprint("dldna_helpers.dynamics")
    for name in ("checkers.py", "env.py", "report.py", "widgets.py"):
        (copy / name).write_text((copy / name).read_text() + "\n# a reworded message\n")
    assert training.code_fingerprint() == before and keys.module_fingerprint("dldna_helpers.dynamics") == dynamics
    (copy / "optim" / "_checks.py").write_text((copy / "optim" / "_checks.py").read_text() + "\n# edit\n")
    assert keys.module_fingerprint("dldna_helpers.optim.lion") != lion and training.code_fingerprint() == before
    (copy / "landscape" / "hessian.py").write_text((copy / "landscape" / "hessian.py").read_text() + "\n# edit\n")
    assert keys.module_fingerprint("dldna_helpers.dynamics") != dynamics
    (copy / "data.py").write_text((copy / "data.py").read_text() + "\n# an edit\n")
    assert training.code_fingerprint() != before


def test_checkpoints_are_sorted_numerically_not_as_text(tmp_cache):
    config = {"sort": "check"}
    train_loader, test_loader = _toy_loaders(n=64)
    model = _model()
    history = train(model, torch.optim.SGD(model.parameters(), lr=0.1), train_loader, test_loader, 11,
                    cache_config=config)
    assert [e for e, _ in load_checkpoints(config)] == list(range(12)) == [e for e, _ in load_checkpoints(history)]
    with pytest.raises(FileNotFoundError, match="run train"):
        load_checkpoints({"never": "trained"})


def test_save_atomic_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "state.pt"
    save_atomic({"a": torch.ones(2)}, target)

    def broken_save(obj, path):
        with open(path, "wb") as fh:
            fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_atomic({"a": torch.zeros(2)}, target)
    monkeypatch.undo()
    assert torch.equal(torch.load(target)["a"], torch.ones(2))  # the old checkpoint is intact


def test_history_round_trips_through_json():
    h = History(train_loss=[1.0], test_loss=[1.0], diverged=True, diverged_step=3)
    assert History.from_json(json.loads(json.dumps(h.to_json()))) == h


def test_seed_mean_averages_over_the_epochs_every_run_has():
    from dldna_helpers.training import History, seed_mean

    runs = [History(test_acc=[0.1, 0.5, 0.7]), History(test_acc=[0.3, 0.7])]   # the second diverged early
    assert seed_mean(runs, "test_acc").tolist() == pytest.approx([0.2, 0.6])


def test_a_run_keeps_its_per_sample_test_results_for_paired_comparisons():
    """The final model's correctness and loss on every test sample, in data order: their means are
    the history's final accuracy and loss, they survive the JSON round trip, and a diverged run has
    none (it is left out of comparisons)."""
    import torch
    from torch import nn

    from dldna_helpers.training import History, evaluate_samples, train

    torch.manual_seed(0)
    x = torch.randn(300, 5)
    y = (x[:, 0] > 0).long()
    model = nn.Linear(5, 2)
    test = [(x[200:250], y[200:250]), (x[250:], y[250:])]
    h = train(model, torch.optim.SGD(model.parameters(), 0.1), [(x[:100], y[:100]), (x[100:200], y[100:200])],
              test, 3)
    errors, losses = h.test_errors(), h.test_losses()
    assert errors.shape == losses.shape == (100,)
    assert errors.mean() == pytest.approx(1 - h.test_acc[-1])
    assert losses.mean() == pytest.approx(h.test_loss[-1], rel=1e-6)
    again_losses, again_correct = evaluate_samples(model, test)
    assert (1 - again_correct == errors).all()
    back = History.from_json(h.to_json())
    assert (back.test_errors() == errors).all() and (back.test_losses() == losses).all()
    with pytest.raises(ValueError, match="leave it out"):
        History(diverged=True).test_errors()


def test_the_package_fingerprint_sees_every_source_file(tmp_path, monkeypatch):
    """What page timings are stamped with: any edit of the package, messages included."""
    from dldna_helpers import keys

    copy = tmp_path / "dldna_helpers"
    shutil.copytree(Path(training.__file__).resolve().parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(keys, "PACKAGE_DIR", copy)
    before = run_cache.package_fingerprint()
    (copy / "checkers.py").write_text((copy / "checkers.py").read_text() + "\n# a reworded message\n")
    assert run_cache.package_fingerprint() != before
