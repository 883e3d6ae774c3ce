"""Heavy-ball theory on a quadratic against independent computations: numpy eigenvalues of the
second-order recurrence, one step of the package's SGD, brute-force grids and measured runs."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dldna_helpers import momentum_theory as mt
from dldna_helpers import optim

RNG = np.random.default_rng(0)
# (lr, momentum, eigenvalue) spread over every regime: small and large ηλ, weak and strong momentum
POINTS = [(float(eta), float(mu), float(lam))
          for eta, mu, lam in zip(RNG.uniform(0.01, 4.5, 300), RNG.uniform(0, 0.999, 300), RNG.uniform(0.05, 1.0, 300))]


def companion_radius(eta: float, mu: float, lam: float) -> float:
    """Spectral radius of z_{t+1} = (1 + μ − ηλ) z_t − μ z_{t−1} (Polyak's form), by numpy."""
    companion = np.array([[1 + mu - eta * lam, -mu], [1.0, 0.0]])
    return float(np.abs(np.linalg.eigvals(companion)).max())


@pytest.mark.parametrize("eta, mu, lam", POINTS[:60] + [(0.5, 0.0, 1.0), (1.5, 0.0, 1.0), (1.0, 0.81, 1.0)])
def test_rate_is_the_spectral_radius_of_the_recurrence(eta, mu, lam):
    rate = float(mt.convergence_rate(eta, mu, lam))
    assert rate == pytest.approx(companion_radius(eta, mu, lam), rel=1e-6, abs=1e-7)
    assert rate == pytest.approx(np.abs(np.linalg.eigvals(mt.iteration_matrix(eta, mu, lam))).max(), rel=1e-6, abs=1e-7)


def test_rate_broadcasts_over_a_grid():
    etas, mus, lams = (np.array(c) for c in zip(*POINTS))
    expected = [companion_radius(*p) for p in POINTS]
    np.testing.assert_allclose(mt.convergence_rate(etas, mus, lams), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("eta, mu, lam", [(0.3, 0.9, 0.5), (2.5, 0.5, 1.0), (1.0, 0.2, 0.2)])
def test_iteration_matrix_is_one_step_of_the_package_sgd(eta, mu, lam):
    """(z, u) → M (z, u) is exactly what optim.SGD does to a parameter on f = ½λz² with buffer u."""
    z0, u0 = 0.7, -0.4
    z = torch.nn.Parameter(torch.tensor([z0], dtype=torch.float64))
    opt = optim.SGD([z], lr=eta, momentum=mu)
    opt.state[z]["momentum_buffer"] = torch.tensor([u0], dtype=torch.float64)
    (0.5 * lam * z * z).sum().backward()
    opt.step()
    stepped = np.array([z.item(), opt.state[z]["momentum_buffer"].item()])
    np.testing.assert_allclose(mt.iteration_matrix(eta, mu, lam) @ [z0, u0], stepped, rtol=1e-12)


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_optimal_pair_is_the_brute_force_grid_minimum(kappa):
    lams = [1.0 / kappa, 1.0]
    etas, mus = np.meshgrid(np.linspace(0.005, 4.0, 800), np.linspace(0.0, 0.99, 600))
    rates = mt.worst_rate(etas, mus, lams)
    i = np.unravel_index(np.argmin(rates), rates.shape)
    best = mt.optimal_momentum(*lams)
    assert best.rate == pytest.approx((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1))
    assert best.momentum == pytest.approx(best.rate ** 2)
    assert float(mt.worst_rate(best.lr, best.momentum, lams)) == pytest.approx(best.rate, abs=1e-6)
    assert rates.min() >= best.rate - 1e-6                       # nothing on the grid beats the formula
    assert rates[i] == pytest.approx(best.rate, abs=5e-3)
    assert etas[i] == pytest.approx(best.lr, abs=0.05) and mus[i] == pytest.approx(best.momentum, abs=0.01)


@pytest.mark.parametrize("kappa", [4.0, 100.0])
def test_optimal_gd_is_the_brute_force_minimum_over_lr(kappa):
    lams = [1.0 / kappa, 1.0]
    etas = np.linspace(0.001, 2.5, 20001)
    rates = mt.worst_rate(etas, 0.0, lams)
    best = mt.optimal_gd(*lams)
    assert best.rate == pytest.approx((kappa - 1) / (kappa + 1))
    assert etas[np.argmin(rates)] == pytest.approx(best.lr, abs=1e-3)
    assert rates.min() == pytest.approx(best.rate, abs=1e-4)


def test_momentum_speed_up_approaches_sqrt_kappa():
    for kappa in (1e2, 1e4):
        gd, hb = mt.optimal_gd(1 / kappa, 1.0), mt.optimal_momentum(1 / kappa, 1.0)
        assert gd.steps_per_decade() / hb.steps_per_decade() == pytest.approx(np.sqrt(kappa), rel=0.01)


@pytest.mark.parametrize("eta, mu, kind", [
    (0.5, 0.0, mt.MONOTONE), (1.5, 0.0, mt.ALTERNATING), (2.5, 0.0, mt.DIVERGENT),
    (1.0, 0.81, mt.UNDERDAMPED), (0.1, 0.25, mt.MONOTONE), (2.58, 0.3, mt.ALTERNATING),
    (3.1, 0.5, mt.DIVERGENT), (3.5, 0.9, mt.UNDERDAMPED), (4.0, 0.9, mt.DIVERGENT),
])
def test_regimes_on_known_points(eta, mu, kind):
    assert int(mt.regime(eta, mu, 1.0)) == kind


def test_underdamped_rate_is_sqrt_momentum_and_slowest_regime_picks_the_slow_direction():
    assert float(mt.convergence_rate(1.0, 0.81, 1.0)) == pytest.approx(0.9)
    lams = [0.01, 1.0]
    assert int(mt.slowest_regime(0.3, 0.0, lams)) == mt.MONOTONE       # λmin crawls
    assert int(mt.slowest_regime(1.99, 0.0, lams)) == mt.ALTERNATING   # λmax flips and is slower
    assert int(mt.slowest_regime(2.01, 0.0, lams)) == mt.DIVERGENT
    assert mt.slowest_regime(np.array([0.3, 1.99]), 0.0, lams).tolist() == [mt.MONOTONE, mt.ALTERNATING]


@pytest.mark.parametrize("eta, mu", [(1.98, 0.0), (1.0, 0.9), (0.5, 0.5), (3.1, 0.5)])
def test_measured_rate_of_sgd_runs_matches_the_prediction(eta, mu):
    lams = torch.tensor([0.01, 1.0], dtype=torch.float64)
    x = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    opt = optim.SGD([x], lr=eta, momentum=mu)
    norms = [x.norm().item()]
    for _ in range(440):
        opt.zero_grad()
        (0.5 * lams * x * x).sum().backward()
        opt.step()
        norms.append(x.norm().item())
    measured = mt.measured_rate(norms, 100, 400, 40)
    assert measured == pytest.approx(float(mt.worst_rate(eta, mu, lams.numpy())), rel=2e-3)


def test_measured_rate_sees_through_oscillation():
    t = np.arange(400)
    errors = 0.95 ** t * np.cos(0.3 * t)                   # touches zero again and again
    assert mt.measured_rate(errors, 50, 300, 30) == pytest.approx(0.95, rel=1e-3)


@pytest.mark.parametrize("call, words", [
    (lambda: mt.convergence_rate(-0.1, 0.5, 1.0), "lr"),
    (lambda: mt.convergence_rate(0.1, 1.0, 1.0), "momentum"),
    (lambda: mt.convergence_rate(0.1, float("nan"), 1.0), "momentum"),
    (lambda: mt.convergence_rate(0.1, 0.5, 0.0), "positive definite"),
    (lambda: mt.worst_rate(0.1, 0.5, []), "empty"),
    (lambda: mt.optimal_momentum(1.0, 0.5), "lam_min <= lam_max"),
    (lambda: mt.optimal_gd(0.0, 1.0), "0 < lam_min"),
    (lambda: mt.measured_rate([1.0] * 10, 5, 3), "first < last"),
    (lambda: mt.measured_rate([1.0] * 10, 0, 5, 20), "length"),
    (lambda: mt.measured_rate([0.0] * 10, 0, 5, 2), "nonzero"),
    (lambda: mt.Tuning(1.0, 0.0, 1.2).steps_per_decade(), "does not converge"),
])
def test_bad_input_gets_a_clear_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


# ------------------------------------------------------------------ Nesterov, noise floor, lower bound
@pytest.mark.parametrize("eta, mu, lam", [(0.3, 0.9, 0.5), (2.5, 0.5, 1.0), (1.0, 0.2, 0.2), (1.9, 0.7, 1.0)])
def test_nesterov_matrix_is_one_step_of_the_package_sgd(eta, mu, lam):
    z0, u0 = 0.7, -0.4
    z = torch.nn.Parameter(torch.tensor([z0], dtype=torch.float64))
    opt = optim.SGD([z], lr=eta, momentum=mu, nesterov=True)
    opt.state[z]["momentum_buffer"] = torch.tensor([u0], dtype=torch.float64)
    (0.5 * lam * z * z).sum().backward()
    opt.step()
    stepped = np.array([z.item(), opt.state[z]["momentum_buffer"].item()])
    M = mt.iteration_matrix(eta, mu, lam, nesterov=True)
    np.testing.assert_allclose(M @ [z0, u0], stepped, rtol=1e-12)
    assert float(mt.convergence_rate(eta, mu, lam, nesterov=True)) == pytest.approx(
        np.abs(np.linalg.eigvals(M)).max(), rel=1e-9)


def test_nesterov_grid_optimum_is_lessards_and_slower_than_heavy_balls():
    """On a quadratic with κ = 100 the best Nesterov pair (Lessard et al. 2016: η = 4/(3L + m),
    rate 1 − 2/√(3κ + 1)) is slower than the best heavy ball ((√κ − 1)/(√κ + 1))."""
    lams = [0.01, 1.0]
    etas, mus = np.meshgrid(np.linspace(0.005, 2.5, 1000), np.linspace(0.0, 0.99, 800))
    rates = mt.worst_rate(etas, mus, lams, nesterov=True)
    i = np.unravel_index(np.argmin(rates), rates.shape)
    assert rates[i] == pytest.approx(1 - 2 / np.sqrt(301), abs=2e-3)
    assert etas[i] == pytest.approx(4 / 3.01, abs=0.01)
    assert rates[i] > mt.optimal_momentum(*lams).rate + 0.05
    best = mt.optimal_nesterov(*lams)
    assert best.rate == pytest.approx(1 - 2 / np.sqrt(301), rel=1e-6)   # a double root: √ of rounding
    assert rates.min() >= best.rate - 1e-6 and best.lr == pytest.approx(etas[i], abs=0.01)


def test_ties_report_every_slowest_regime():
    best = mt.optimal_momentum(0.01, 1.0)
    assert mt.slowest_regimes(best.lr, best.momentum, [0.01, 1.0]) == [mt.MONOTONE, mt.ALTERNATING]
    assert int(mt.slowest_regime(best.lr, best.momentum, [0.01, 1.0])) == mt.ALTERNATING
    assert mt.slowest_regimes(1.0, 0.9, [0.01, 1.0]) == [mt.UNDERDAMPED]


@pytest.mark.parametrize("eta, mu", [(0.5, 0.0), (0.05, 0.9), (0.005, 0.99), (1.2, 0.3)])
def test_noise_floor_matches_the_closed_form_and_a_simulation(eta, mu):
    lam = 1.0
    closed = eta * (1 + mu) / (lam * (1 - mu) * (2 * (1 + mu) - eta * lam))
    floor = mt.stationary_variance(eta, mu, lam)
    assert floor == pytest.approx(closed, rel=1e-9)
    rng = np.random.default_rng(1)
    z, u = np.zeros(20000), np.zeros(20000)
    for _ in range(3000):                                    # long past the transient for μ ≤ 0.99
        u = mu * u + lam * z + rng.standard_normal(z.size)
        z = z - eta * u
    assert float(np.mean(z * z)) == pytest.approx(floor, rel=0.05)


def test_noise_floor_depends_on_the_effective_learning_rate():
    floors = [mt.stationary_variance(0.5 * (1 - mu), mu, 0.01) for mu in (0.0, 0.9, 0.99)]
    assert mt.effective_lr(0.05, 0.9) == pytest.approx(0.5)
    assert max(floors) / min(floors) < 1.01                  # ηλ small: the same η/(1 − μ), the same floor
    with pytest.raises(ValueError, match="diverge"):
        mt.stationary_variance(2.5, 0.0, 1.0)
    with pytest.raises(ValueError, match="noise_var"):
        mt.stationary_variance(0.1, 0.0, 1.0, noise_var=-1.0)


def test_nesterov_noise_floor_matches_a_simulation():
    eta, mu, lam = 0.05, 0.9, 1.0
    rng = np.random.default_rng(2)
    z, u = np.zeros(20000), np.zeros(20000)
    for _ in range(3000):
        g = lam * z + rng.standard_normal(z.size)
        u = mu * u + g
        z = z - eta * (g + mu * u)
    assert float(np.mean(z * z)) == pytest.approx(mt.stationary_variance(eta, mu, lam, nesterov=True), rel=0.05)


def test_chain_quadratic_is_nesterovs_worst_case():
    kappa = 100.0
    A, b = mt.chain_quadratic(300, kappa)
    lams = np.linalg.eigvalsh(A)
    assert 1.0 <= lams[0] < 1.01 and kappa * 0.99 < lams[-1] <= kappa
    q = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    x_star = np.linalg.solve(A, b)
    np.testing.assert_allclose(x_star[:50], q ** np.arange(1, 51), rtol=1e-6)
    # a first-order method from 0 touches one more coordinate per step
    x, v = np.zeros(300), np.zeros(300)
    for t in range(1, 20):
        v = 0.5 * v + (A @ x - b)
        x = x - 0.01 * v
        assert np.count_nonzero(x) == t
    with pytest.raises(ValueError, match="kappa"):
        mt.chain_quadratic(10, 1.0)
    with pytest.raises(ValueError, match="n must"):
        mt.chain_quadratic(1, 10.0)
