"""Directions, grid evaluation, interpolation and trajectory embedding."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dldna_helpers.landscape import linear_interpolation, loss_surface, random_direction, trajectory_embedding
from dldna_helpers.models import MLP
from dldna_helpers.training import evaluate


def small_mlp(seed: int = 0, dtype=torch.float64) -> nn.Module:
    torch.manual_seed(seed)
    return MLP(in_features=12, hidden=(16, 8), num_classes=3).to(dtype)


def data(n: int = 40, dtype=torch.float64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 12, generator=gen, dtype=dtype), torch.randint(0, 3, (n,), generator=gen)


def snapshot(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


# ----------------------------------------------------------------- directions
def test_filter_normalization_matches_weight_slices():
    model = small_mlp()
    d = random_direction(model, seed=3)
    for p, t in zip(model.parameters(), d):
        assert t.shape == p.shape and t.dtype == p.dtype
        if p.dim() <= 1:
            assert torch.count_nonzero(t) == 0
        else:
            torch.testing.assert_close(t.flatten(1).norm(dim=1), p.detach().flatten(1).norm(dim=1))


def test_direction_seed_and_options():
    model = small_mlp()
    a, b = random_direction(model, seed=5), random_direction(model, seed=5)
    c = random_direction(model, seed=6)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not all(torch.equal(x, y) for x, y in zip(a, c))
    full = random_direction(model, ignore_1d=False, seed=5)
    for p, t in zip(model.parameters(), full):
        if p.dim() == 1:  # each entry is its own slice: |d_i| = |w_i|
            torch.testing.assert_close(t.abs(), p.detach().abs())
    layer = random_direction(model, normalization="layer", seed=5)
    for p, t in zip(model.parameters(), layer):
        if p.dim() > 1:
            torch.testing.assert_close(t.norm(), p.detach().norm())
    with pytest.raises(ValueError, match="normalization must be one of"):
        random_direction(model, normalization="batch")


# ----------------------------------------------------------------- loss surface
def naive_surface(model, loss_fn, batch, d1, d2, xs, ys):
    """The straightforward way: a fresh copy of the weights for every grid point."""
    base = {k: v.clone() for k, v in model.state_dict().items()}
    names = [n for n, _ in model.named_parameters()]
    out = np.zeros((len(ys), len(xs)))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            state = dict(base)
            for name, u, v in zip(names, d1, d2):
                state[name] = base[name] + x * u + y * v
            model.load_state_dict(state)
            out[i, j] = evaluate(model, batch, loss_fn)[0]
    model.load_state_dict(base)
    return out


@pytest.mark.parametrize("precompute", [True, False])
def test_surface_matches_naive_and_orientation(precompute):
    model, batch, loss_fn = small_mlp(), data(), nn.CrossEntropyLoss()
    d1, d2 = random_direction(model, seed=1), random_direction(model, seed=2)
    xs, ys = np.linspace(-1.0, 1.5, 5), np.linspace(-0.5, 0.5, 3)   # non-square: 3 rows (y) × 5 columns (x)
    before, modules = snapshot(model), [id(m) for m in model.modules()]
    z = loss_surface(model, loss_fn, batch, d1, d2, xs, ys, precompute=precompute)
    assert z.shape == (3, 5)
    np.testing.assert_allclose(z, naive_surface(model, loss_fn, batch, d1, d2, xs, ys), rtol=0, atol=1e-6)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert [id(m) for m in model.modules()] == modules   # the first layer is back in its place
    # orientation: moving along d1 only changes the columns, along d2 only the rows
    z_x = loss_surface(model, loss_fn, batch, d1, [torch.zeros_like(t) for t in d2], xs, ys)
    assert np.allclose(z_x, z_x[0:1, :]) and not np.allclose(z_x, z_x[:, 0:1])


def test_surface_float32_with_loader_matches_naive():
    model, loss_fn = small_mlp(dtype=torch.float32), nn.CrossEntropyLoss()
    x, y = data(dtype=torch.float32)
    loader = [(x[:25], y[:25]), (x[25:], y[25:])]
    d1, d2 = random_direction(model, seed=1), random_direction(model, seed=2)
    xs, ys = [-1.0, 0.0, 1.0], [0.0, 0.5]
    z = loss_surface(model, loss_fn, loader, d1, d2, xs, ys)
    np.testing.assert_allclose(z, naive_surface(model, loss_fn, (x, y), d1, d2, xs, ys), rtol=1e-5)


@pytest.mark.parametrize("fail_at", [1, 2, 5])
def test_surface_restores_the_model_after_exception(fail_at):
    """The loss fails in the shortcut's check (call 1, first layer swapped for its stand-in), in
    the plain check (call 2) or mid-grid (call 5): weights, modules and mode come back as they were."""
    model, batch = small_mlp(), data()
    d1, d2 = random_direction(model, seed=1), random_direction(model, seed=2)
    before = snapshot(model)
    modules = list(model.named_modules())
    params = list(model.named_parameters())
    calls = {"n": 0}

    def exploding_loss(out, y):
        calls["n"] += 1
        if calls["n"] >= fail_at:
            raise RuntimeError("boom")
        return nn.functional.cross_entropy(out, y)

    model.train()
    with pytest.raises(RuntimeError, match="boom"):
        loss_surface(model, exploding_loss, batch, d1, d2, [-1, 0, 1], [-1, 0, 1])
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert model.training and all(m.training for m in model.modules())
    assert [(k, id(m)) for k, m in model.named_modules()] == [(k, id(m)) for k, m in modules]
    assert [(k, id(p)) for k, p in model.named_parameters()] == [(k, id(p)) for k, p in params]
    assert type(model.net[0]) is nn.Linear and not model.net[0].__dict__.get("forward")


def test_surface_with_parameter_free_first_step_and_residual_model():
    from dldna_helpers.models import DeepMLP

    torch.manual_seed(0)
    model = DeepMLP(depth=3, width=8, in_features=12, num_classes=3, residual=True).double()
    batch = data()
    d1, d2 = random_direction(model, seed=1), random_direction(model, seed=2)
    z = loss_surface(model, nn.CrossEntropyLoss(), batch, d1, d2, [-0.5, 0.5], [0.0, 1.0])
    np.testing.assert_allclose(
        z, naive_surface(model, nn.CrossEntropyLoss(), batch, d1, d2, [-0.5, 0.5], [0.0, 1.0]), atol=1e-9
    )


def test_surface_bad_input():
    model, batch, loss_fn = small_mlp(), data(), nn.CrossEntropyLoss()
    d1 = random_direction(model, seed=1)
    with pytest.raises(ValueError, match="d2 has 1 tensors but the model has"):
        loss_surface(model, loss_fn, batch, d1, d1[:1], [0], [0])
    wrong = [t.clone() for t in d1]
    wrong[0] = torch.zeros(3, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"d1\[net.0.weight\] has shape \(3, 3\)"):
        loss_surface(model, loss_fn, batch, wrong, d1, [0], [0])
    with pytest.raises(ValueError, match="xs must be a non-empty"):
        loss_surface(model, loss_fn, batch, d1, d1, [], [0])
    with pytest.raises(ValueError, match="data is empty"):
        loss_surface(model, loss_fn, (batch[0][:0], batch[1][:0]), d1, d1, [0], [0])


# ----------------------------------------------------------------- interpolation
def test_interpolation_endpoints_and_buffers():
    loss_fn = nn.CrossEntropyLoss()
    a, b = small_mlp(0), small_mlp(1)
    batch = data()
    result = linear_interpolation(a, b, loss_fn, batch, [-0.5, 0.0, 0.5, 1.0, 1.5])
    assert result.loss[1] == pytest.approx(evaluate(a, batch, loss_fn)[0], abs=1e-12)
    assert result.loss[3] == pytest.approx(evaluate(b, batch, loss_fn)[0], abs=1e-12)
    assert result.accuracy[3] == pytest.approx(evaluate(b, batch, loss_fn)[1])
    # buffers (BatchNorm running statistics) are interpolated too: at α = 1 the BN model equals b
    torch.manual_seed(0)
    bn_a = nn.Sequential(nn.Linear(12, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3)).double()
    bn_b = nn.Sequential(nn.Linear(12, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3)).double()
    bn_b[1].running_mean.fill_(3.0)
    r = linear_interpolation(bn_a, bn_b, loss_fn, batch, [0.0, 1.0])
    assert r.loss[1] == pytest.approx(evaluate(bn_b, batch, loss_fn)[0], abs=1e-12)
    with pytest.raises(ValueError, match="different state_dict keys"):
        linear_interpolation(a, bn_a, loss_fn, batch, [0.0])
    with pytest.raises(ValueError, match="data is empty"):
        linear_interpolation(a, b, loss_fn, [], [0.0])


# ----------------------------------------------------------------- trajectory
def test_trajectory_sorted_numerically_and_pca_exact():
    # a straight line in weight space with noise in one orthogonal direction
    states = {e: {"w": torch.tensor([float(e), 0.1 * float(e % 2), 0.0])} for e in range(12)}
    shuffled = [(e, states[e]) for e in (10, 2, 0, 11, 1, 3, 5, 4, 7, 6, 9, 8)]
    emb = trajectory_embedding(shuffled, "pca")
    assert emb.epochs == list(range(12))                          # 10 after 9, not after 1
    assert abs(np.corrcoef(emb.coords[:, 0], np.arange(12))[0, 1]) > 0.999
    assert emb.explained_variance_ratio[0] > 0.99
    tsne = trajectory_embedding(shuffled, "tsne", seed=0)
    assert tsne.coords.shape == (12, 2) and tsne.explained_variance_ratio is None
    with pytest.raises(ValueError, match="method must be one of"):
        trajectory_embedding(shuffled, "umap")
    with pytest.raises(ValueError, match="at least 3 checkpoints"):
        trajectory_embedding(shuffled[:2])


class HiddenScale(nn.Module):
    """A parameter used before the first layer without a module call: the first layer's input then
    depends on the weights, so the precomputation would be wrong and must be rejected."""

    def __init__(self) -> None:
        super().__init__()
        self.extra = nn.ParameterList([nn.Parameter(torch.ones(12, dtype=torch.float64))])
        self.fc1 = nn.Linear(12, 8).double()
        self.fc2 = nn.Linear(8, 3).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x * self.extra[0])))


def test_surface_rejects_an_invalid_shortcut():
    torch.manual_seed(0)
    model, batch, loss_fn = HiddenScale(), data(), nn.CrossEntropyLoss()
    d1 = random_direction(model, ignore_1d=False, seed=1)   # moves the hidden 1-D scale too
    d2 = random_direction(model, ignore_1d=False, seed=2)
    xs, ys = [-1.0, 0.0, 0.5], [-0.5, 1.0]
    z = loss_surface(model, loss_fn, batch, d1, d2, xs, ys)
    np.testing.assert_allclose(z, naive_surface(model, loss_fn, batch, d1, d2, xs, ys), atol=1e-9)
