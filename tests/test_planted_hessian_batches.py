"""Curvature over several mini-batches of unequal size must be the curvature of the mean loss
over all samples, and the Hutchinson trace's standard error must mean what it says.

Reference: the exact Hessian (``torch.func.hessian``) of the full-data mean loss, float64.
Each test was checked by planting a weighting or standard-error bug once (issue 18, item 3)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dldna_helpers.landscape import hessian_top_eigen, hessian_trace
from dldna_helpers.landscape.hessian import HessianOperator
from test_landscape_hessian import exact_hessian as shared_exact_hessian

SIZES = (11, 7, 3)     # unequal: weighting batches equally instead of by samples is visibly wrong


def model_and_batches(seed: int = 0, sizes=SIZES, width: int = 6):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, width), nn.Tanh(), nn.Linear(width, 3)).double()
    gen = torch.Generator().manual_seed(seed + 100)
    n = sum(sizes)
    # batches from different parts of input space, so their Hessians differ a lot
    scale = torch.cat([torch.full((s, 1), 0.5 + 2.0 * i, dtype=torch.float64) for i, s in enumerate(sizes)])
    x = torch.randn(n, 4, generator=gen, dtype=torch.float64) * scale
    y = torch.randint(0, 3, (n,), generator=gen)
    batches, i = [], 0
    for s in sizes:
        batches.append((x[i:i + s], y[i:i + s]))
        i += s
    return model, batches, (x, y)


def exact_hessian(model: nn.Module, data) -> torch.Tensor:
    """The Hessian of the mean cross entropy over ``data = (x, y)`` (all samples at once)."""
    return shared_exact_hessian(model, F.cross_entropy, data)


def test_the_batches_really_differ():
    """Guard for the tests below: equal weighting of the batches would give another Hessian."""
    model, batches, _ = model_and_batches()
    per_batch = [exact_hessian(model, b) for b in batches]
    by_samples = sum(len(b[1]) * h for b, h in zip(batches, per_batch)) / sum(SIZES)
    equal = sum(per_batch) / len(per_batch)
    assert float((by_samples - equal).abs().max()) > 1e-2 * float(by_samples.abs().max())


def test_operator_is_the_exact_hessian_of_the_full_mean_loss():
    model, batches, full = model_and_batches()
    op = HessianOperator(model, F.cross_entropy, batches)
    exact = exact_hessian(model, full)
    assert op.n == exact.shape[0]
    columns = torch.stack([op(e) for e in torch.eye(op.n, dtype=torch.float64)], dim=1)
    torch.testing.assert_close(columns, exact, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("method", ["lanczos", "pyhessian"])
def test_top_eigenvalues_over_unequal_batches(method):
    model, batches, full = model_and_batches()
    vals = torch.linalg.eigvalsh(exact_hessian(model, full))
    vals = vals[torch.argsort(vals.abs(), descending=True)]
    assert vals[1].abs() > 1.05 * vals[2].abs()          # the top two are separated
    ours, vecs = hessian_top_eigen(model, F.cross_entropy, batches, k=2, method=method, tol=1e-10, max_iter=3000)
    # PyHessian sums the products of several batches in a float32 buffer (torch.zeros' default
    # dtype) even for a float64 model: ~1e-6 relative error, far below the >1% of a wrong weighting
    rel = 1e-9 if method == "lanczos" else 1e-5
    assert ours == pytest.approx(vals[:2].tolist(), rel=rel)
    # and the eigenvector is one of the full-data Hessian
    h = exact_hessian(model, full)
    v = torch.cat([t.reshape(-1) for t in vecs[0]])
    torch.testing.assert_close(h @ v, ours[0] * v, rtol=0, atol=1e-4 * abs(ours[0]))


def test_trace_standard_error_is_calibrated():
    """Across many seeds, about 95% of the intervals estimate ± 2·SE must cover the exact trace
    (measured for this case: 93.2% over 1000 other seeds).

    With 20 samples the (t-distributed) nominal coverage is 94%. For 200 seeds the binomial
    spread is ±1.7%, so [0.88, 0.99] is safe for correct code, while an SE off by a factor of
    2 either way (coverage 68% or 99.9%), an SE without the 1/√n (100%) or a trace weighted
    per batch instead of per sample (here a bias of 2.6 SE) all fall outside."""
    model, batches, full = model_and_batches(seed=2, sizes=(10, 3), width=4)
    exact = float(torch.trace(exact_hessian(model, full)))
    covered, errors = [], []
    for seed in range(200):
        estimate, se = hessian_trace(model, F.cross_entropy, batches, n_samples=20, seed=seed)
        assert se > 0
        covered.append(abs(estimate - exact) <= 2 * se)
        errors.append((estimate - exact) / se)
    coverage = float(np.mean(covered))
    assert 0.88 <= coverage <= 0.99, f"±2·SE covered the exact trace in {coverage:.1%} of 200 seeds"
    # the standardised errors are centred (no bias from the batch weighting) with spread ≈ 1
    z = np.array(errors)
    assert abs(z.mean()) < 0.3 and 0.8 < z.std() < 1.3, (z.mean(), z.std())


def test_pyhessian_over_several_batches_is_quiet_and_restores_grads():
    """With several batches PyHessian calls backward(create_graph=True) in every product; the
    wrapper silences that warning (the cycle is broken when the old .grad fields are put back)
    for the whole run, not only while the engine is built."""
    import warnings

    model, batches, _ = model_and_batches()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hessian_top_eigen(model, F.cross_entropy, batches, k=1, method="pyhessian", tol=1e-4)
    assert [str(w.message)[:60] for w in caught if "create_graph" in str(w.message)] == []
    assert all(p.grad is None for p in model.parameters())
