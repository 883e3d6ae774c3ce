"""Time per ``step()`` of the from-scratch optimizers vs. ``torch.optim``'s default implementation.

On the chapter's MLP (784→256→192→128→64→10, gradients of one batch of 128), each pair is timed
side by side, interleaved round by round so machine noise hits both alike; the best round counts.
Prints one ratio (ours / torch.optim) per optimizer and, as the LAST line, the worst ratio
(target ≤ 1.5). Lion and Sophia have no ``torch.optim`` counterpart: their times are printed
relative to ``torch.optim.AdamW`` for information and do not enter the worst ratio.
On CPU, ``torch.optim``'s default is its per-tensor loop (``foreach`` and ``fused`` are off),
the same structure as ours, so the ratio compares like with like.

Usage: .venv/bin/python bench/bench_optim.py [--steps 100] [--rounds 5]
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from dldna_helpers import optim as ours
from dldna_helpers.models import MLP

# name: (ours, torch.optim or None, keyword arguments for both)
PAIRS = {
    "SGD (momentum 0.9, nesterov)": (ours.SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True)),
    "AdaGrad": (ours.AdaGrad, torch.optim.Adagrad, dict(lr=0.01)),
    "RMSProp": (ours.RMSProp, torch.optim.RMSprop, dict(lr=1e-3)),
    "Adam": (ours.Adam, torch.optim.Adam, dict(lr=1e-3)),
    "AdamW": (ours.AdamW, torch.optim.AdamW, dict(lr=1e-3, weight_decay=1e-2)),
    "Adafactor": (ours.Adafactor, torch.optim.Adafactor, dict()),
}
EXTRA = {
    "Lion": (ours.Lion, dict(lr=1e-4, weight_decay=0.1)),
    "Sophia (step only)": (ours.Sophia, dict(lr=1e-4)),
}


def prepared(make) -> torch.optim.Optimizer:
    """An optimizer on a fresh MLP whose .grad holds one real mini-batch gradient."""
    torch.manual_seed(0)
    model = MLP()
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
    nn.functional.cross_entropy(model(x), y).backward()
    opt = make(model.parameters())
    opt.step()  # create the state outside the timed region
    return opt


def time_steps(opt: torch.optim.Optimizer, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
    return (time.perf_counter() - start) / steps


def compare(make_a, make_b, steps: int, rounds: int) -> tuple[float, float]:
    a, b = prepared(make_a), prepared(make_b)
    best_a = best_b = float("inf")
    for _ in range(rounds):
        best_a = min(best_a, time_steps(a, steps))
        best_b = min(best_b, time_steps(b, steps))
    return best_a, best_b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, MLP, batch 128, "
          f"{args.rounds} rounds × {args.steps} steps, best round")
    ratios = {}
    for name, (mine, reference, kwargs) in PAIRS.items():
        t_ours, t_ref = compare(lambda ps: mine(ps, **kwargs), lambda ps: reference(ps, **kwargs),
                                args.steps, args.rounds)
        ratios[name] = t_ours / t_ref
        print(f"{name:32s} ours {1e6 * t_ours:8.1f} µs  torch.optim {1e6 * t_ref:8.1f} µs  "
              f"ratio {ratios[name]:.2f}")
    for name, (mine, kwargs) in EXTRA.items():
        t_ours, t_ref = compare(lambda ps: mine(ps, **kwargs), lambda ps: torch.optim.AdamW(ps),
                                args.steps, args.rounds)
        print(f"{name:32s} ours {1e6 * t_ours:8.1f} µs  (torch.optim.AdamW {1e6 * t_ref:8.1f} µs, "
              f"ratio {t_ours / t_ref:.2f}; information only)")
    worst = max(ratios, key=ratios.get)
    print(f"worst ratio ours/torch.optim = {ratios[worst]:.2f} ({worst}; target <= 1.5)")


if __name__ == "__main__":
    main()
