"""What three seeds cost relative to one: the multi-seed runs of 5.1 and 5.2 on this machine.

The workload is one run of 5.1's experiment in the quick profile (the chapter's MLP with
PReLU, SGD with momentum 0.9, 6,000 FashionMNIST training images, batch 128, 4 epochs,
evaluated on the whole 10,000-image test set after every epoch), on one torch thread as the
quick profile runs it. Timed side by side, without the run cache:

- one seed, serial (the reference);
- three seeds one after another in one process;
- three seeds with ``dldna_helpers.parallel.map_runs`` (forked processes, one per usable CPU;
  what the pages use);
- three seeds stacked into one model with ``torch.func`` (``vmap`` over stacked parameters,
  one process, one thread): the alternative the pages do not use, measured to show why;
- 5.1's whole comparison (five initializations that finish): one seed serially against three
  seeds with ``map_runs`` (15 runs on the usable CPUs).

Prints each time and, last, the ratios 3 seeds / 1 seed (target for the pages' way: at most 2).
With ``--pages`` it also executes the pages 5.1 and 5.2 whole, each alone with an empty cache,
once with the quick profile's three seeds and once cut to one seed ($DLDNA_PROFILE_SIZES), and
prints their wall-time ratios.

Usage: .venv/bin/python bench/bench_seeds.py [--repeats N] [--epochs N] [--pages]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from timing import best_time, notebook_seconds  # noqa: E402

from dldna_helpers.data import TensorLoader, fashion_mnist_loaders  # noqa: E402
from dldna_helpers.init import initialize  # noqa: E402
from dldna_helpers.models import MLP  # noqa: E402
from dldna_helpers.parallel import map_runs, usable_cpus  # noqa: E402
from dldna_helpers.training import train  # noqa: E402

SEEDS = (0, 1, 2)
LR, MOMENTUM, BATCH = 0.01, 0.9, 128


METHODS = ("lecun", "xavier_normal", "kaiming_normal", "orthogonal", "scaled_orthogonal")   # 5.1's, finishing


def make_model(seed: int, method: str = "kaiming_normal") -> nn.Module:
    torch.manual_seed(seed)
    return initialize(MLP(activation="prelu"), method)


def one_run(seed: int, data: dict, epochs: int, method: str = "kaiming_normal") -> float:
    """One seed of 5.1's experiment through the chapter's training loop; its final test accuracy."""
    model = make_model(seed, method)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loader = TensorLoader(data["train"], BATCH, shuffle=True, seed=seed)
    return train(model, opt, loader, data["test"], epochs, progress=False).test_acc[-1]


def stacked_runs(data: dict, epochs: int) -> list[float]:
    """The same three runs as one stacked model (torch.func): one batch per seed per step."""
    models = [make_model(seed) for seed in SEEDS]
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")
    velocity = {k: torch.zeros_like(v) for k, v in params.items()}

    def loss_of(p, b, x, y):
        return nn.functional.cross_entropy(functional_call(base, (p, b), (x,)), y)

    grad_all = vmap(torch.func.grad(loss_of))
    loaders = [TensorLoader(data["train"], BATCH, shuffle=True, seed=seed) for seed in SEEDS]
    evaluate = vmap(lambda p, b, x: functional_call(base, (p, b), (x,)), in_dims=(0, 0, None))  # one x for all
    evaluate_each = vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))   # a batch per seed
    test_x, test_y = data["test"].data.x, data["test"].data.y

    def test_logits():
        return torch.cat([evaluate(params, buffers, test_x[i:i + 1000]) for i in range(0, len(test_x), 1000)], 1)

    with torch.no_grad():   # the loop's evaluation before training (train split, then test split)
        for batches in zip(*loaders):
            evaluate_each(params, buffers, torch.stack([xb for xb, _ in batches]))
        test_logits()
    for _ in range(epochs):
        for batches in zip(*loaders):
            x = torch.stack([xb for xb, _ in batches])
            y = torch.stack([yb for _, yb in batches])
            grads = grad_all(params, buffers, x, y)
            with torch.no_grad():
                for k, g in grads.items():   # SGD with momentum, as torch.optim.SGD does it
                    velocity[k].mul_(MOMENTUM).add_(g)
                    params[k].sub_(LR * velocity[k])
        with torch.no_grad():
            logits = test_logits()
    return (logits.argmax(-1) == test_y).float().mean(1).tolist()


ONE_SEED = {"init_seeds": [0], "optim_seeds": [0], "cifar_seeds": [0]}


def page_time(page: str, sizes: dict | None) -> float:
    """Wall time of executing ``page`` (book/NAME.ipynb) alone, quick profile, empty cache."""
    env = {"DLDNA_PROFILE": "quick", "DLDNA_ALLOW_STANDIN": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    if sizes:
        env["DLDNA_PROFILE_SIZES"] = json.dumps(sizes)
    return notebook_seconds(Path(__file__).resolve().parents[1] / "book" / f"{page}.ipynb", env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--pages", action="store_true", help="also time pages 5.1 and 5.2 whole (≈ 5 min)")
    args = parser.parse_args()
    page_ratios = {}
    if args.pages:   # first, while this process has not yet set its own thread count
        for page in ("initialization", "optimizers"):
            one_seed, three = page_time(page, ONE_SEED), page_time(page, None)
            page_ratios[page] = three / one_seed
            print(f"page {page}: one seed {one_seed:.0f} s, three seeds {three:.0f} s ({three / one_seed:.2f}×)",
                  flush=True)
    torch.set_num_threads(1)   # the quick profile's one thread per page
    train_loader, test_loader = fashion_mnist_loaders(6000, None, BATCH, seed=0)
    data = {"train": train_loader.data, "test": test_loader}
    cpus = usable_cpus()
    one_run(SEEDS[0], data, 1)   # warm-up: first calls pay for lazy initialisation
    one = best_time(lambda: one_run(SEEDS[0], data, args.epochs), args.repeats)
    serial = best_time(lambda: [one_run(s, data, args.epochs) for s in SEEDS], args.repeats)
    forked = best_time(lambda: map_runs(one_run, [(s, data, args.epochs) for s in SEEDS]), args.repeats)
    stacked = best_time(lambda: stacked_runs(data, args.epochs), args.repeats)
    # the stacked runs do the same work: their accuracies match the separate runs' (up to rounding)
    gap = max(abs(a - b) for a, b in zip(stacked_runs(data, args.epochs), map_runs(
        one_run, [(s, data, args.epochs) for s in SEEDS])))
    # the whole comparison of 5.1 (five initializations that finish): one seed vs three seeds
    page_one = best_time(lambda: [one_run(SEEDS[0], data, args.epochs, m) for m in METHODS], args.repeats)
    page_three = best_time(lambda: map_runs(one_run, [(s, data, args.epochs, m) for m in METHODS for s in SEEDS]),
                           args.repeats)
    print(f"{os.cpu_count()} CPUs ({cpus} usable), one torch thread per process, {args.epochs} epochs, "
          f"best of {args.repeats}")
    print(f"one seed, serial:                    {one:6.2f} s")
    print(f"three seeds, serial:                 {serial:6.2f} s  ({serial / one:.2f}×)")
    print(f"three seeds, map_runs ({cpus} processes):  {forked:6.2f} s  ({forked / one:.2f}×)")
    print(f"three seeds, stacked (torch.func):   {stacked:6.2f} s  ({stacked / one:.2f}×; "
          f"test accuracy within {100 * gap:.2f}%p of the separate runs)")
    print(f"5.1's five initializations, one seed serial: {page_one:6.2f} s; three seeds with map_runs: "
          f"{page_three:6.2f} s ({page_three / page_one:.2f}×)")
    pages = "".join(f", page {name} {ratio:.2f}" for name, ratio in page_ratios.items())
    print(f"3 seeds / 1 seed: one configuration {forked / one:.2f}, five (as in 5.1) {page_three / page_one:.2f}"
          f"{pages} with map_runs (target ≤ 2); serial {serial / one:.2f}, stacked (torch.func) {stacked / one:.2f}")


if __name__ == "__main__":
    main()
