"""Benchmark of the two heavy parts of section 5.3 (prints ratios; never asserts).

1. Grid evaluation of the loss surface, per grid point, for the chapter's MLP on
   ``landscape_eval_samples`` inputs of FashionMNIST's shape:
   - floor: a plain forward pass over the same data with fixed weights;
   - ``loss_surface`` (in-place weights + precomputed first layer), and without the
     precomputation (in-place weights only);
   - the straightforward way: ``load_state_dict`` of a fresh w + x·d1 + y·d2 per point;
   - ``torch.func.vmap`` over chunks of grid points (functional_call with batched weights).
2. Top-4 Hessian eigenvalues of a small MLP whose exact Hessian is computable: our Lanczos vs
   PyHessian's power iteration at equal quality. Each method gets the loosest tolerance on a
   common ladder (1e-2, 3e-3, 1e-3, ...) at which its largest relative eigenvalue error, from
   each of three random start vectors, is below ``--target`` (1e-4), so neither is timed
   tighter than that error needs; the chosen tolerances and achieved errors are printed next
   to the times (which are for start vector 0).

Timings are the minimum over repeats (the machine may be shared). Usage:
    .venv/bin/python bench/bench_landscape.py [--points 11] [--repeats 3] [--target 1e-4]
"""
from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, hessian, vmap

from dldna_helpers.env import get_profile
from dldna_helpers.landscape import hessian_top_eigen, loss_surface, random_direction
from dldna_helpers.models import MLP
from timing import best_time


def rebuild_grid(model, loss_fn, data, d1, d2, xs, ys) -> np.ndarray:
    """The straightforward way: a new state dict per grid point."""
    x_in, y_in = data
    names = [n for n, _ in model.named_parameters()]
    base = {k: v.clone() for k, v in model.state_dict().items()}
    out = np.empty((len(ys), len(xs)))
    with torch.no_grad():
        for i, b in enumerate(ys):
            for j, a in enumerate(xs):
                state = dict(base)
                for name, u, v in zip(names, d1, d2):
                    state[name] = base[name] + a * u + b * v
                model.load_state_dict(state)
                out[i, j] = float(loss_fn(model(x_in), y_in))
        model.load_state_dict(base)
    return out


def vmap_grid(model, loss_fn, data, d1, d2, xs, ys, chunk: int = 8) -> np.ndarray:
    x_in, y_in = data
    names = [n for n, _ in model.named_parameters()]
    base = [p.detach() for p in model.parameters()]
    points = torch.tensor([(a, b) for b in ys for a in xs], dtype=base[0].dtype)

    def loss_at(ab: torch.Tensor) -> torch.Tensor:
        weights = {n: w + ab[0] * u + ab[1] * v for n, w, u, v in zip(names, base, d1, d2)}
        return loss_fn(functional_call(model, weights, (x_in,)), y_in)

    batched = vmap(loss_at)
    with torch.no_grad():
        values = torch.cat([batched(points[i:i + chunk]) for i in range(0, len(points), chunk)])
    return values.reshape(len(ys), len(xs)).numpy()


def bench_grid(points: int, repeats: int) -> tuple[float, float]:
    profile = get_profile()
    torch.manual_seed(0)
    model = MLP().eval()
    n = profile.landscape_eval_samples
    data = (torch.randn(n, 1, 28, 28), torch.randint(0, 10, (n,)))
    loss_fn = nn.CrossEntropyLoss()
    d1, d2 = random_direction(model, seed=1), random_direction(model, seed=2)
    xs = ys = np.linspace(-1, 1, points)
    n_points = points * points

    with torch.no_grad():
        floor = best_time(lambda: float(loss_fn(model(data[0]), data[1])), 5 * repeats)
    timings = {
        "loss_surface (precomputed first layer)":
            best_time(lambda: loss_surface(model, loss_fn, data, d1, d2, xs, ys), repeats) / n_points,
        "loss_surface(precompute=False) (in place)":
            best_time(lambda: loss_surface(model, loss_fn, data, d1, d2, xs, ys, precompute=False), repeats) / n_points,
        "rebuild per point (load_state_dict)":
            best_time(lambda: rebuild_grid(model, loss_fn, data, d1, d2, xs, ys), repeats) / n_points,
        "torch.func.vmap, 8 points per call":
            best_time(lambda: vmap_grid(model, loss_fn, data, d1, d2, xs, ys), repeats) / n_points,
    }
    fast = loss_surface(model, loss_fn, data, d1, d2, xs, ys)
    gap = np.abs(fast - rebuild_grid(model, loss_fn, data, d1, d2, xs, ys)).max()
    print(f"[grid] MLP {sum(p.numel() for p in model.parameters()):,} params, {n} samples, "
          f"{points}x{points} grid, threads={torch.get_num_threads()}")
    print(f"  plain forward pass (floor):                 {1e3 * floor:8.2f} ms")
    for name, t in timings.items():
        print(f"  {name:<44s}{1e3 * t:8.2f} ms/point  = {t / floor:5.2f}x floor")
    ours = timings["loss_surface (precomputed first layer)"]
    rebuild = timings["rebuild per point (load_state_dict)"]
    print(f"  max |loss_surface - rebuild| = {gap:.1e}")
    print(f"  RATIO grid/forward = {ours / floor:.2f} (target <= 1.3), rebuild/grid = {rebuild / ours:.2f} (target >= 2)")
    return ours / floor, rebuild / ours


TOL_LADDER = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7)
HESSIAN_OPTIONS = {"lanczos": {}, "pyhessian": {"max_iter": 2000}}
SEEDS = (0, 1, 2)   # start vectors the chosen tolerance must reach the target from


def loosest_tolerance(run, target: float) -> tuple[float, float]:
    """The loosest tolerance on TOL_LADDER at which ``run(tol)`` (the max relative eigenvalue
    error) is at most ``target``, and that error; the tightest one if none gets there."""
    for tol in TOL_LADDER:
        err = run(tol)
        if err <= target:
            return tol, err
    return tol, err


def bench_hessian(repeats: int, target: float = 1e-4) -> float:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 40), nn.Tanh(), nn.Linear(40, 20), nn.Tanh(), nn.Linear(20, 5))
    gen = torch.Generator().manual_seed(1)
    data = (torch.randn(512, 20, generator=gen), torch.randint(0, 5, (512,), generator=gen))
    loss_fn = nn.CrossEntropyLoss()
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]

    def loss_of(flat: torch.Tensor) -> torch.Tensor:
        parts, i = {}, 0
        for name, shape in zip(names, shapes):
            parts[name] = flat[i:i + shape.numel()].view(shape)
            i += shape.numel()
        return loss_fn(functional_call(model, parts, (data[0].double(),)), data[1])

    model.double()
    flat0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    exact = torch.linalg.eigvalsh(hessian(loss_of)(flat0))
    exact = exact[torch.argsort(exact.abs(), descending=True)][:4]
    model.float()
    k = 4

    def top(method: str, tol: float, seed: int = 0) -> list[float]:
        with warnings.catch_warnings():   # a loose rung may stop Lanczos early: its error says so
            warnings.simplefilter("ignore")
            return hessian_top_eigen(model, loss_fn, data, k=k, method=method, tol=tol, seed=seed,
                                     **HESSIAN_OPTIONS[method])[0]

    def error(method: str, tol: float) -> float:
        """The worst relative error over three start vectors: a tolerance must reach the
        target reliably, not by a lucky start."""
        return max(abs(v - float(e)) / abs(float(e))
                   for seed in SEEDS for v, e in zip(top(method, tol, seed), exact))

    results = {}
    for method in HESSIAN_OPTIONS:
        tol, err = loosest_tolerance(lambda t: error(method, t), target)
        seconds = best_time(lambda: top(method, tol), repeats)
        results[method] = (seconds, tol, err)
    print(f"[hessian] MLP {flat0.numel():,} params, 512 samples, top-{k} eigenvalues "
          f"(exact: {', '.join(f'{float(e):.4f}' for e in exact)}), target max relative error {target:.0e}")
    for method, (seconds, tol, err) in results.items():
        reached = "" if err <= target else "  (target NOT reached)"
        print(f"  {method:<10s} tol={tol:.0e} {seconds:7.3f} s   max relative error {err:.1e}{reached}")
    (t_lanczos, tol_l, err_l), (t_pyhessian, tol_p, err_p) = results["lanczos"], results["pyhessian"]
    ratio = t_pyhessian / t_lanczos
    print(f"  RATIO pyhessian/lanczos time = {ratio:.1f} at equal quality (tol {tol_p:.0e} vs {tol_l:.0e}, "
          f"errors {err_p:.1e} vs {err_l:.1e}, both <= {target:.0e})")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--target", type=float, default=1e-4,
                        help="max relative eigenvalue error both Hessian methods must reach")
    args = parser.parse_args()
    grid_ratio, rebuild_ratio = bench_grid(args.points, args.repeats)
    hess_ratio = bench_hessian(args.repeats, args.target)
    print(f"SUMMARY grid/forward={grid_ratio:.2f}x (<=1.3)  rebuild/grid={rebuild_ratio:.2f}x (>=2)  "
          f"pyhessian/lanczos={hess_ratio:.1f}x")


if __name__ == "__main__":
    main()
