"""Tests of dldna_helpers.dynamics: per-epoch metrics recorded through train()'s hooks."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from dldna_helpers.dynamics import (
    DYNAMICS_FORMAT,
    moving_average,
    DynamicsTracker,
    flat_parameters,
    global_weight_norm,
    layer_groups,
    tracked_train,
)
from dldna_helpers.models import MLP
from dldna_helpers.training import load_checkpoints


def tiny_problem(seed: int = 0, n_batches: int = 1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(32 * n_batches, 6, generator=g)
    y = (x[:, 0] > 0).long()
    batches = [(x[i * 32:(i + 1) * 32], y[i * 32:(i + 1) * 32]) for i in range(n_batches)]
    torch.manual_seed(seed)
    model = MLP(in_features=6, hidden=(5, 4), num_classes=2, activation="tanh")
    return model, batches, (x, y)


def test_global_norms_equal_norm_of_concatenated_vector():
    model, _, _ = tiny_problem()
    concatenated = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert global_weight_norm(model) == pytest.approx(float(concatenated.norm()), rel=1e-6)
    # not the sum of per-tensor norms (the mistake the chapter corrects)
    assert global_weight_norm(model) < sum(float(p.detach().norm()) for p in model.parameters())
    assert flat_parameters(model).numel() == sum(p.numel() for p in model.parameters())


def test_layer_groups_follow_the_network_from_input_to_output():
    model, _, _ = tiny_problem()
    assert list(layer_groups(model)) == ["net.0", "net.2", "net.4"]
    assert [len(v) for v in layer_groups(model).values()] == [2, 2, 2]


def test_first_epoch_gradient_norms_match_a_manual_backward():
    model, batches, data = tiny_problem()
    reference = copy.deepcopy(model)
    loss = nn.CrossEntropyLoss()(reference(batches[0][0]), batches[0][1])
    loss.backward()
    layer_expected = [float(torch.cat([p.grad.flatten() for p in m.parameters()]).norm())
                      for m in reference.linear_layers()]
    global_expected = float(torch.cat([p.grad.flatten() for p in reference.parameters()]).norm())

    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history, record = tracked_train(model, opt, batches, data, 2)
    assert record.epochs == 2 and record.layer_names == ["net.0", "net.2", "net.4"]
    np.testing.assert_allclose(record.layer_grad_norms[1], layer_expected, rtol=1e-5)
    assert record.grad_norm[1] == pytest.approx(global_expected, rel=1e-5)
    assert record.grad_norm[1] == pytest.approx(math.sqrt(sum(v**2 for v in layer_expected)), rel=1e-5)
    assert math.isnan(record.grad_norm[0]) and math.isnan(record.param_change[0])
    assert record.loss == history.train_loss
    assert record.loss_improvement[2] == pytest.approx(record.loss[1] - record.loss[2])


def test_param_change_is_measured_against_previous_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("DLDNA_CACHE_DIR", str(tmp_path))
    model, batches, data = tiny_problem(n_batches=3)
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    config = {"test": "param_change", "epochs": 4}
    history, record = tracked_train(model, opt, batches, data, 4, cache_config=config)
    states = load_checkpoints({**config, "dynamics_format": DYNAMICS_FORMAT})
    flat = [torch.cat([t.flatten().double() for t in sd.values()]) for _, sd in states]
    to_previous = [float((flat[e] - flat[e - 1]).norm()) for e in range(1, 5)]
    to_start = [float((flat[e] - flat[0]).norm()) for e in range(1, 5)]
    np.testing.assert_allclose(record.param_change[1:], to_previous, rtol=1e-6)
    assert not np.allclose(record.param_change[3:], to_start[2:], rtol=1e-3)
    np.testing.assert_allclose(record.weight_norm, [float(f.norm()) for f in flat], rtol=1e-6)

    # a cached run returns the same record without training (train skips the hooks then)
    model2, _, _ = tiny_problem(n_batches=3)
    history2, record2 = tracked_train(model2, torch.optim.SGD(model2.parameters(), lr=0.2, momentum=0.9),
                                      batches, data, 4, cache_config=config)
    assert history2.from_cache
    np.testing.assert_allclose(record2.param_change[1:], record.param_change[1:])
    assert record2.layer_grad_norms[1:] == record.layer_grad_norms[1:]


def test_vanishing_gradients_are_smallest_near_the_input():
    torch.manual_seed(0)
    model = MLP(in_features=20, hidden=(32,) * 8, num_classes=4, activation="sigmoid")
    x, y = torch.randn(128, 20), torch.randint(0, 4, (128,))
    _, record = tracked_train(model, torch.optim.SGD(model.parameters(), lr=0.01), [(x, y)], (x, y), 1)
    norms = record.layer_grad_norms[1]
    assert norms[0] < norms[-1] / 100  # sigmoid' ≤ 1/4 per layer: the input side receives the least


def test_bad_input():
    model, batches, data = tiny_problem()
    with pytest.raises(ValueError, match="unknown layer"):
        DynamicsTracker(model, layers=["net.1"])
    with pytest.raises(ValueError, match="after_backward"):
        tracked_train(model, torch.optim.SGD(model.parameters(), lr=0.1), batches, data, 1,
                      after_backward=lambda m: None)
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable"):
        DynamicsTracker(frozen)


def test_moving_average_is_the_trailing_mean_and_fits_short_series():
    series = [4.0, 2.0, 6.0, 0.0, 8.0]
    smooth = moving_average(series, 2)
    assert smooth.window == 2 and smooth.end_steps.tolist() == [2, 3, 4, 5]
    assert smooth.values.tolist() == [3.0, 4.0, 3.0, 4.0]
    short = moving_average(series, 20)            # a run shorter than the window: one mean of all
    assert short.window == 5 and short.end_steps.tolist() == [5] and short.values.tolist() == [4.0]
    with pytest.raises(ValueError, match="window must be a positive int, got 0"):
        moving_average(series, 0)
    with pytest.raises(ValueError, match="empty series"):
        moving_average([], 3)


# ------------------------------------------------------------------ probes and measurements of 5.5
from dldna_helpers.dynamics import Probe, gradient_noise, layer_input_spread, variance_ratio  # noqa: E402
from dldna_helpers.models import DeepMLP  # noqa: E402


def _manual_grad(model, x, y):
    model.zero_grad()
    nn.CrossEntropyLoss()(model(x), y).backward()
    flat = torch.cat([p.grad.flatten() for p in model.parameters()]).double()
    model.zero_grad()
    return flat


def test_gradient_noise_splits_the_minibatch_norm_into_mean_and_noise():
    model, _, (x, y) = tiny_problem(n_batches=3)
    x, y = x[:90], y[:90]                      # batches of 32, 32 and 26: weights |B|/N
    full, rms = gradient_noise(model, x, y, 32)
    g = _manual_grad(model, x, y)
    parts = [(x[i:i + 32], y[i:i + 32]) for i in (0, 32, 64)]
    grads = [_manual_grad(model, xb, yb) for xb, yb in parts]
    w = [len(yb) / 90 for _, yb in parts]
    assert full == pytest.approx(float(g.norm()), rel=1e-5)
    assert rms ** 2 == pytest.approx(sum(wi * float(gi.norm()) ** 2 for wi, gi in zip(w, grads)), rel=1e-5)
    noise = sum(wi * float((gi - g).norm()) ** 2 for wi, gi in zip(w, grads))
    assert rms ** 2 == pytest.approx(full ** 2 + noise, rel=1e-5)   # the identity the page teaches
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="batch_size"):
        gradient_noise(model, x, y, 0)
    with pytest.raises(ValueError, match="same positive number"):
        gradient_noise(model, x, y[:5], 8)


def test_a_probe_measures_each_epoch_without_changing_the_training():
    model, batches, data = tiny_problem(n_batches=3)
    twin = copy.deepcopy(model)
    x, y = data
    probe = Probe(x, y, batch_size=32, sharpness_iter=6, sharpness_samples=64, until_epoch=1)
    h1, record = tracked_train(model, torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9),
                               batches, data, 3, probe=probe)
    full0, _ = gradient_noise(twin, x, y, 32)
    h2, plain = tracked_train(twin, torch.optim.SGD(twin.parameters(), lr=0.2, momentum=0.9), batches, data, 3)
    assert h1.step_loss == h2.step_loss                      # probing does not change the run
    assert record.full_grad_norm[0] == pytest.approx(full0, rel=1e-6)   # epoch 0 = the initial weights
    assert record.full_grad_norm[1] == pytest.approx(gradient_noise(_after_one_epoch(batches, data), x, y, 32)[0],
                                                     rel=1e-5)
    assert all(math.isfinite(v) for v in record.sharpness[:2]) and all(math.isnan(v) for v in record.sharpness[2:])
    assert all(a <= b + 1e-9 for a, b in zip(record.full_grad_norm[:2], record.batch_grad_rms[:2]))
    assert all(math.isnan(v) for v in plain.full_grad_norm + plain.sharpness)
    with pytest.raises(ValueError, match="sharpness_iter"):
        Probe(x, y, sharpness_iter=-1)
    with pytest.raises(ValueError, match="same positive number"):
        Probe(x, y[:3])


def _after_one_epoch(batches, data):
    """The tiny problem's model trained again to the end of epoch 1 (the weights probed there)."""
    model, _, _ = tiny_problem(n_batches=3)
    tracked_train(model, torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9), batches, data, 1)
    return model


def test_layer_input_spread_is_the_across_sample_variance_of_each_layer_input():
    torch.manual_seed(0)
    x = torch.randn(50, 784)
    net = DeepMLP(3, width=8)
    expected = [float(x.double().var(0, unbiased=False).mean())]
    with torch.no_grad():
        h = torch.relu(net.stem(x))
        for block in net.blocks:
            expected.append(float(h.double().var(0, unbiased=False).mean()))
            h = torch.relu(block(h))
        expected.append(float(h.double().var(0, unbiased=False).mean()))
    np.testing.assert_allclose(layer_input_spread(net, x), expected, rtol=1e-6)
    # a constant layer makes every later input identical: the spread collapses to 0
    with torch.no_grad():
        net.blocks[0].weight.zero_()
    assert layer_input_spread(net, x)[2:].max() == 0.0
    with pytest.raises(ValueError, match="at least 2 samples"):
        layer_input_spread(net, x[:1])


def test_variance_ratio_matches_scipy_and_refuses_bad_input():
    from scipy import stats

    gen = np.random.default_rng(0)
    a, b = gen.normal(0, 2, 47), gen.normal(0, 1, 47)
    r = variance_ratio(a, b)
    assert r.ratio == pytest.approx(a.var(ddof=1) / b.var(ddof=1))
    assert r.low == pytest.approx(r.ratio / stats.f.ppf(0.975, 46, 46))
    assert r.high == pytest.approx(r.ratio / stats.f.ppf(0.025, 46, 46))
    assert 1.7 < r.high / r.ratio < 1.9          # the page's "×/÷ 1.8" for 47 batches
    with pytest.raises(ValueError, match="zero variance"):
        variance_ratio(a, np.ones(5))
    with pytest.raises(ValueError, match="at least 2"):
        variance_ratio([1.0], b)
