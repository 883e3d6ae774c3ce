"""Hessian eigenpairs and trace against the exact Hessian of a model of a few hundred parameters."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, hessian

from dldna_helpers.landscape import hessian_top_eigen, hessian_trace, lanczos


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    # 6·16+16 + 16·8+8 + 8·3+3 = 275 parameters, float64 so the reference is exact to ~1e-12
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def tiny_data(seed: int = 1, n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=gen, dtype=torch.float64) * 2
    return x, torch.randint(0, 3, (n,), generator=gen)


def ce(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(out, y)


def mixed(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross entropy minus a large output penalty: strong negative curvature dominates."""
    return F.cross_entropy(out, y) - 2.0 * out.pow(2).mean()


def exact_hessian(model: nn.Module, loss_fn, data) -> torch.Tensor:
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    flat0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    x, y = data

    def loss_of(flat: torch.Tensor) -> torch.Tensor:
        parts, i = {}, 0
        for name, shape in zip(names, shapes):
            size = shape.numel()
            parts[name] = flat[i:i + size].view(shape)
            i += size
        return loss_fn(functional_call(model, parts, (x,)), y)

    return hessian(loss_of)(flat0)


def flat(vec: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in vec])


def reference(model, loss_fn, data, k):
    h = exact_hessian(model, loss_fn, data)
    vals, vecs = torch.linalg.eigh(h)
    order = torch.argsort(vals.abs(), descending=True)
    return vals[order], vecs[:, order], h


@pytest.mark.parametrize("method", ["lanczos", "pyhessian"])
@pytest.mark.parametrize("loss_name", ["ce", "mixed"])
def test_top_eigenpairs_match_exact_hessian(method, loss_name):
    loss_fn = {"ce": ce, "mixed": mixed}[loss_name]
    model, data, k = tiny_model(), tiny_data(), 2
    ref_vals, ref_vecs, _ = reference(model, loss_fn, data, k)
    # the comparison is only meaningful when the k-th eigenvalue is separated from the next
    assert ref_vals[k - 1].abs() > 1.1 * ref_vals[k].abs()
    if loss_name == "mixed":
        assert ref_vals[0] < 0, "this case must have its largest-magnitude eigenvalue negative"
    vals, vecs = hessian_top_eigen(model, loss_fn, data, k=k, method=method, tol=1e-10, max_iter=2000)
    for i in range(k):
        assert vals[i] == pytest.approx(float(ref_vals[i]), rel=1e-4)
        cos = torch.dot(flat(vecs[i]), ref_vecs[:, i]) / flat(vecs[i]).norm()
        assert abs(float(cos)) > 0.999
        assert [t.shape for t in vecs[i]] == [p.shape for p in model.parameters()]


def test_lanczos_four_pairs_and_ordering():
    model, data = tiny_model(3), tiny_data(4)
    ref_vals, _, _ = reference(model, ce, data, 4)
    vals, _ = hessian_top_eigen(model, ce, data, k=4, method="lanczos", tol=1e-10)
    assert vals == pytest.approx(ref_vals[:4].tolist(), rel=1e-4)
    assert all(abs(a) >= abs(b) for a, b in zip(vals, vals[1:]))


def test_lanczos_on_a_known_matrix():
    gen = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(50, 50, generator=gen, dtype=torch.float64))
    spectrum = torch.linspace(-1, 1, 50, dtype=torch.float64)
    spectrum[0], spectrum[-1] = -7.0, 5.0
    a = q @ torch.diag(spectrum) @ q.T
    vals, vecs, ok = lanczos(lambda v: a @ v, 50, 2, tol=1e-12, dtype=torch.float64)
    assert ok and vals.tolist() == pytest.approx([-7.0, 5.0], rel=1e-10)
    assert abs(float(vecs[:, 0] @ q[:, 0])) > 0.999999


@pytest.mark.parametrize("method", ["lanczos", "pyhessian"])
def test_float32_eigenvectors_have_unit_norm(method):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(100, 200), nn.Tanh(), nn.Linear(200, 10))   # 22,210 parameters
    gen = torch.Generator().manual_seed(0)
    data = (torch.randn(64, 100, generator=gen), torch.randint(0, 10, (64,), generator=gen))
    _, vecs = hessian_top_eigen(model, ce, data, k=2, method=method, tol=1e-3)
    for vec in vecs:
        assert float(sum((t.double() ** 2).sum() for t in vec)) == pytest.approx(1.0, abs=1e-5)


def test_trace_within_three_standard_errors():
    model, data = tiny_model(), tiny_data()
    exact = float(torch.trace(exact_hessian(model, ce, data)))
    estimate, stderr = hessian_trace(model, ce, data, n_samples=200, seed=0)
    assert stderr > 0
    assert abs(estimate - exact) < 3 * stderr


def test_model_mode_and_grads_restored():
    model, data = tiny_model(), tiny_data()
    model.train()
    hessian_top_eigen(model, ce, data, k=1, method="pyhessian", tol=1e-4)
    assert model.training
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_bad_k(k):
    with pytest.raises(ValueError, match="k must be a positive int"):
        hessian_top_eigen(tiny_model(), ce, tiny_data(), k=k)


def test_bad_method_and_empty_data():
    with pytest.raises(ValueError, match="method must be one of"):
        hessian_top_eigen(tiny_model(), ce, tiny_data(), k=1, method="power")
    empty = (torch.zeros(0, 6, dtype=torch.float64), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="data is empty"):
        hessian_top_eigen(tiny_model(), ce, empty, k=1)
    with pytest.raises(ValueError, match="data is empty"):
        hessian_trace(tiny_model(), ce, [], n_samples=4)
    with pytest.raises(ValueError, match="n_samples"):
        hessian_trace(tiny_model(), ce, tiny_data(), n_samples=1)


class WithUnused(nn.Module):
    """tiny_model behind a trainable layer the loss never uses (registered first, so its
    parameters lead every flat vector); PyHessian stores a float 0 for their missing gradient."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.unused = nn.Linear(6, 2).double()
        self.net = tiny_model()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@pytest.mark.parametrize("method", ["lanczos", "pyhessian"])
def test_parameters_without_gradient_get_zero_entries(method):
    model, data, k = WithUnused(), tiny_data(), 2
    ref_vals, ref_vecs, _ = reference(model, ce, data, k)
    vals, vecs = hessian_top_eigen(model, ce, data, k=k, method=method, tol=1e-10, max_iter=2000)
    n_unused = sum(p.numel() for p in model.unused.parameters())
    for i in range(k):
        assert vals[i] == pytest.approx(float(ref_vals[i]), rel=1e-4)
        assert abs(float(torch.dot(flat(vecs[i]), ref_vecs[:, i]))) > 0.999
        assert [t.shape for t in vecs[i]] == [p.shape for p in model.parameters()]
        assert float(flat(vecs[i])[:n_unused].abs().max()) < 1e-10   # Lanczos: rounding of its random start
    assert all(p.requires_grad and p.grad is None for p in model.parameters())   # restored


def test_pyhessian_refuses_parameters_used_by_some_batches_only():
    class Sometimes(WithUnused):
        def forward(self, x):
            out = self.net(x)
            return out + self.unused(x).sum() if len(x) == 5 else out    # only batches of 5 use it

    x, y = tiny_data()
    batches = [(x[:5], y[:5]), (x[5:], y[5:])]
    with pytest.raises(ValueError, match=r"\['unused.weight', 'unused.bias'\].*method='lanczos'"):
        hessian_top_eigen(Sometimes(), ce, batches, k=1, method="pyhessian")
    vals, _ = hessian_top_eigen(Sometimes(), ce, batches, k=1, method="lanczos", tol=1e-8)
    assert vals[0] != 0.0


# ---------------------------------------------------------------- spectral density (SLQ)
from dldna_helpers.landscape import hessian_spectrum, lanczos_quadrature  # noqa: E402


def known_matrix(n: int = 60, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    spectrum = torch.linspace(-1.0, 3.0, n, dtype=torch.float64) ** 3
    return q @ torch.diag(spectrum) @ q.T, spectrum


def test_lanczos_quadrature_is_gauss_quadrature():
    """Σ τ_k θ_k^j = vᵀA^j v exactly for every degree j ≤ 2m − 1 (and not beyond)."""
    a, _ = known_matrix()
    m, n = 5, a.shape[0]
    run = lanczos_quadrature(lambda v: a @ v, n, m, seed=3, dtype=torch.float64)
    gen = torch.Generator().manual_seed(3)
    v = (torch.randint(0, 2, (n,), generator=gen) * 2 - 1).double() / n ** 0.5
    assert run.weights.sum() == pytest.approx(1.0, abs=1e-12) and (run.weights > 0).all()
    assert list(run.nodes) == sorted(run.nodes)
    power = v.clone()
    for degree in range(1, 2 * m + 1):
        power = a @ power
        exact, quad = float(v @ power), float(run.weights @ run.nodes ** degree)
        if degree <= 2 * m - 1:
            assert quad == pytest.approx(exact, rel=1e-9, abs=1e-12), degree
        else:   # degree 2m is where Gauss quadrature with m nodes stops being exact
            assert abs(quad - exact) > 1e-6 * abs(exact)


def test_lanczos_quadrature_with_all_steps_recovers_the_spectrum():
    a, spectrum = known_matrix(n=30)
    run = lanczos_quadrature(lambda v: a @ v, 30, 30, seed=0, dtype=torch.float64)
    np.testing.assert_allclose(run.nodes, spectrum.numpy(), atol=1e-8)
    assert run.residuals.max() < 1e-6
    # more steps than the dimension: capped at the dimension
    assert len(lanczos_quadrature(lambda v: a @ v, 30, 100, dtype=torch.float64).nodes) == 30


@pytest.mark.parametrize("loss_name", ["ce", "mixed"])
def test_slq_density_matches_the_exact_spectrum(loss_name):
    """Against the exact Hessian of a 275-parameter model, negative eigenvalues included."""
    loss_fn = {"ce": ce, "mixed": mixed}[loss_name]
    model, data = tiny_model(), tiny_data()
    exact = torch.linalg.eigvalsh(exact_hessian(model, loss_fn, data)).numpy()
    assert exact.min() < -0.3 and exact.max() > 0.4   # both signs, so the test sees the negative side
    sd = hessian_spectrum(model, loss_fn, data, steps=40, probes=30, seed=0)
    assert sd.dim == exact.size
    # the extremes are converged Ritz values
    for which, ref in (("max", exact.max()), ("min", exact.min())):
        value, residual = sd.extreme(which)
        assert value == pytest.approx(ref, rel=1e-6) and residual < 1e-4
    assert sd.top(2) == pytest.approx(sorted(exact)[::-1][:2], rel=1e-4)
    # the smoothed density: L1 distance to the exact one with the same kernel
    sigma = 0.02 * (exact.max() - exact.min())
    grid = np.linspace(exact.min() - 5 * sigma, exact.max() + 5 * sigma, 2000)
    reference_density = np.exp(-0.5 * ((grid[:, None] - exact[None, :]) / sigma) ** 2).sum(1) / (
        sigma * np.sqrt(2 * np.pi) * exact.size)
    estimate = sd.density(grid, sigma)
    assert np.trapezoid(estimate, grid) == pytest.approx(1.0, abs=1e-3)
    assert np.trapezoid(np.abs(estimate - reference_density), grid) < 0.05
    # the distribution function away from the cluster at 0, on the negative and the positive side
    for t in (exact.min() / 2, exact.min() / 10, exact.max() / 10, exact.max() / 2):
        assert sd.fraction_below(t) == pytest.approx(float((exact < t).mean()), abs=0.04), t
    # the trace from the same probes is Hutchinson's estimate: within 4 of its standard errors
    assert sd.trace() == pytest.approx(float(exact.sum()), abs=0.15 * abs(float(exact.sum())) + 0.5)


def test_slq_bad_input_and_mode_restored():
    model, data = tiny_model(), tiny_data()
    model.train()
    hessian_spectrum(model, ce, data, steps=5, probes=1)
    assert model.training and all(p.grad is None for p in model.parameters())
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="steps must be a positive int"):
            hessian_spectrum(model, ce, data, steps=bad)
        with pytest.raises(ValueError, match="probes must be a positive int"):
            hessian_spectrum(model, ce, data, probes=bad)
    sd = hessian_spectrum(model, ce, data, steps=5)
    with pytest.raises(ValueError, match="sigma must be a positive number"):
        sd.density(np.zeros(3), 0.0)
    with pytest.raises(ValueError, match="which must be"):
        sd.extreme("top")
