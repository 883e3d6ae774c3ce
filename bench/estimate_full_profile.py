"""How long does each page take in the `full` profile on one GPU? An estimate from measured op streams.

No GPU is available where this book is built, so the `full` profile is sized from this
estimate, not from a run. For every piece of work a page does (a training step of each
model/optimizer pair, an evaluation batch, a loss-surface point, the Hessian cells), the
work is executed here, on the CPU, at its `full` size, and every ATen op it issues is priced
by the roofline model in ``gpu_cost.py`` (FLOPs and bytes per op, a per-op launch floor, a
round trip per host sync). Counts come from the sizes in ``dldna_helpers.env.PROFILES``.

The same work lists, priced with measured CPU times at the `quick` sizes, predict the
`quick` profile's page times on this machine; ``--pages`` executes every page in `quick`
(fresh cache) and prints prediction and measurement side by side. That comparison checks the
work lists; what a page does besides this work (plots, 2-D optimizer paths, t-SNE) is the
measured remainder, carried over unchanged to the `full` estimate (it does not grow with the
profile). The measured times are kept in ``bench/results/page_times.json``, stamped with the
commit, a hash of the executed notebooks, the helper package's source hash and the `quick`
sizes; a file whose stamp does not match the current checkout (or that has none) is never
reused: the pages are executed again, and the reason is printed.

    .venv/bin/python bench/estimate_full_profile.py [--pages]

The last line printed is the largest page's estimate in minutes against the 20-minute budget.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import warnings
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_cost import T4, T4_PESSIMISTIC, GpuCostMode, GpuSpec, OpTotals  # noqa: E402
from timing import best_time, notebook_seconds  # noqa: E402

from dldna_helpers import optim  # noqa: E402
from dldna_helpers.data import TensorData, TensorLoader, load_fashion_mnist, random_crop_flip  # noqa: E402
from dldna_helpers.dynamics import tracked_train  # noqa: E402
from dldna_helpers.env import PROFILES, Profile  # noqa: E402
from dldna_helpers.landscape import (hessian_spectrum, hessian_top_eigen, hessian_trace,  # noqa: E402
                                     loss_surface, random_direction)
from dldna_helpers.models import MLP, DeepMLP, SmallCNN, SmallViT  # noqa: E402
from dldna_helpers.storage import save_atomic  # noqa: E402
from dldna_helpers.training import code_fingerprint, evaluate, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BUDGET_MINUTES = 20.0
FMNIST_SIZES, CIFAR_SIZES = (60_000, 10_000), (50_000, 10_000)
EVAL_BATCH = 1000          # the test loaders' batch size (data.fashion_mnist_loaders, the 5.2 CIFAR cell)


# ------------------------------------------------------------------ the models and optimizers pages use
def _bn_mlp(batchnorm: bool, hidden: int = 6, width: int = 64) -> nn.Module:
    """The network of exercise 5 (exercises/applied.md)."""
    layers, n_in = [nn.Flatten()], 784
    for _ in range(hidden):
        layers += [nn.Linear(n_in, width, bias=not batchnorm), *([nn.BatchNorm1d(width)] if batchnorm else []),
                   nn.ReLU()]
        n_in = width
    return nn.Sequential(*layers, nn.Linear(n_in, 10))


MODELS = {  # key: (factory, input shape, classes)
    "mlp": (lambda **kw: MLP(**kw), (1, 28, 28), 10),
    "deep_mlp": (lambda **kw: DeepMLP(**kw), (1, 28, 28), 10),
    "bn_mlp": (lambda **kw: _bn_mlp(**kw), (1, 28, 28), 10),
    "cnn": (lambda **kw: SmallCNN(num_classes=100, **kw), (3, 32, 32), 100),
    "vit": (lambda **kw: SmallViT(num_classes=100, **kw), (3, 32, 32), 100),
}
OPTIMIZERS = {  # the step rule is what costs; learning rates do not matter here
    "torch.SGD": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    "torch.Adam": lambda p: torch.optim.Adam(p, lr=1e-3),
    "SGD": lambda p: optim.SGD(p, lr=0.01, momentum=0.9),
    "Adam": lambda p: optim.Adam(p, lr=1e-3),
    "AdamW": lambda p: optim.AdamW(p, lr=1e-3, weight_decay=1e-2),
    "Lion": lambda p: optim.Lion(p, lr=3e-4, weight_decay=3e-2),
    "Sophia": lambda p: optim.Sophia(p, lr=1e-3, rho=0.1, weight_decay=2e-2, k=10, bias_correction=True),
    "Adafactor": lambda p: optim.Adafactor(p),
    "Nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "AdaGrad": lambda p: optim.AdaGrad(p, lr=1e-2),
    "RMSProp": lambda p: optim.RMSProp(p, lr=1e-3),
}
PAGE_OPTIMIZERS = ("SGD", "Adam", "AdamW", "Lion", "Sophia", "Adafactor")   # book/optimizers.md
SWEEP_OPTIMIZERS = (*(o for o in PAGE_OPTIMIZERS if o != "AdamW"), "Nesterov", "AdaGrad", "RMSProp")  # its search
SEARCH_EXTRA = 2   # points a search adds to its first grid, typically (5.2, quick: 30 runs for 8 optimizers)
# 5.4: six optimizers' learning-rate grids (about 28 candidates, each run 120 steps so that a path must
# stay inside the band 80 steps after entering it; diverged candidates stop early), the μ* grid, BFGS
# for the target and a 10-step check: about 3,300 LossSlice steps (counted at page seed 0)
SLICE_STEPS = 3300
# 5.5's sharpness runs: five full-length GD runs (three learning rates, two that change it
# halfway), λ_max every 5 steps by 16 Lanczos iterations; momentum runs over a quarter of the
# steps (η = 0.2, measured every 3) and a third (η = 0.1, every 5); then three 100-iteration
# checks of the top six eigenvalues
SHARPNESS_RUNS, SHARPNESS_EVERY, SHARPNESS_ITER = 5, 5, 16
MOMENTUM_EVERY = 3
SHARPNESS_CHECKS, CHECK_K, CHECK_ITER = 3, 6, 100
# 5.5's warmup runs probe λ_max of 500 training images with 10 Lanczos iterations, epochs 0 … warmup
PROBE_SAMPLES, PROBE_ITER = 500, 10


@dataclass(frozen=True)
class Net:
    model: str
    kwargs: tuple = ()

    def label(self) -> str:
        def short(v):
            return f"{len(v)}×{v[0]}" if isinstance(v, tuple) else v
        return self.model + (f"({', '.join(f'{k}={short(v)}' for k, v in self.kwargs)})" if self.kwargs else "")

    def build(self) -> nn.Module:
        torch.manual_seed(0)
        return MODELS[self.model][0](**dict(self.kwargs))

    def inputs(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(0)
        _, shape, classes = MODELS[self.model]
        return torch.randn(n, *shape, generator=gen), torch.randint(0, classes, (n,), generator=gen)


# ------------------------------------------------------------------ units of work
@dataclass(frozen=True)
class TrainStep:
    """One mini-batch step of ``train`` (or ``tracked_train``): forward, backward, norm, step."""
    net: Net
    optimizer: str
    batch: int
    tracked: bool = False
    augment: bool = False


@dataclass(frozen=True)
class EvalBatch:
    """One batch of ``evaluate`` (no gradient)."""
    net: Net
    batch: int


@dataclass(frozen=True)
class SurfacePoint:
    """One point of ``loss_surface`` (or of a linear interpolation) over ``samples``."""
    net: Net
    samples: int


@dataclass(frozen=True)
class HessianCell:
    """The Hessian computations on ``samples``: ``kind`` 'page' = PyHessian top-2 + Lanczos top-2
    (5.3's cross-check); 'subset' = 60-step SLQ + a 20-sample Hutchinson trace (5.3, per subset);
    'whole' = Lanczos top-2 (5.3, the whole training subset); 'slq60'/'slq40' = SLQ with that many
    steps; 'lanczos1' = Lanczos top-1 (skip study); 'sharpness' = 16 Lanczos iterations for λ_max
    (5.5's sharpness during full-batch GD); 'check' = 100 iterations for the top six (5.5's check);
    'probe' = 10 iterations (5.5's warmup probe). 5.3's MLP cells use trained weights."""
    net: Net
    samples: int
    kind: str


Unit = TrainStep | EvalBatch | SurfacePoint | HessianCell


@dataclass
class Item:
    what: str
    unit: Unit
    count: int


def _steps(n: int, batch: int) -> int:
    return math.ceil(n / batch)


def run_items(what: str, net: Net, optimizer: str, batch: int, sizes: tuple[int, int], epochs: int,
              tracked: bool = False, augment: bool = False) -> list[Item]:
    """The work of one ``train`` call: epoch-0 evaluation of both splits, the steps, and one
    test evaluation per epoch (train.py)."""
    n_train, n_test = sizes
    return [
        Item(what, TrainStep(net, optimizer, batch, tracked, augment), epochs * _steps(n_train, batch)),
        Item(what, EvalBatch(net, batch), _steps(n_train, batch)),
        Item(what, EvalBatch(net, min(EVAL_BATCH, n_test)), (epochs + 1) * _steps(n_test, EVAL_BATCH)),
    ]


def fmnist_sizes(p: Profile) -> tuple[int, int]:
    return (p.fmnist_train or FMNIST_SIZES[0], p.fmnist_test or FMNIST_SIZES[1])


MLP_NET = Net("mlp")
SHARP_NET = Net("mlp", (("activation", "tanh"), ("hidden", (64, 64))))   # 5.5's sharpness model


def page_work(p: Profile) -> dict[str, list[Item]]:
    """What each page computes that grows with the profile (read off the page sources)."""
    fm, b = fmnist_sizes(p), p.batch_size
    n_seeds_init, n_seeds_opt = len(p.init_seeds), len(p.optim_seeds)
    chapter_run = run_items("chapter_run (SGD)", MLP_NET, "torch.SGD", b, fm, p.landscape_epochs)
    grid = p.surface_points ** 2

    # 5.2's CIFAR experiment: three optimizers, sizes and model widths from the profile.
    cifar_opts = ("SGD", "Adam", "Lion")
    cifar_sizes = (p.cifar_train or CIFAR_SIZES[0], p.cifar_test or CIFAR_SIZES[1])
    cnn = Net("cnn", (("width", p.cifar_cnn_width),))
    vit = Net("vit", (("depth", p.cifar_vit_depth), ("dim", p.cifar_vit_dim), ("heads", 4),
                      ("mlp_dim", 2 * p.cifar_vit_dim)))

    pages: dict[str, list[Item]] = {"book/intro": [], "exercises/basic": []}
    pages["book/pipeline"] = [
        item for _ in p.pipeline_seeds   # one run per seed, and the end-of-epoch training-set loss
        for item in [*run_items("MLP, SGD", MLP_NET, "torch.SGD", b, fm, p.pipeline_epochs),
                     Item("end-of-epoch train loss", EvalBatch(MLP_NET, 1000),
                          p.pipeline_epochs * _steps(fm[0], 1000))]]
    symmetry = Net("mlp", (("activation", "tanh"), ("hidden", (128, 64))))
    deep = [Net("mlp", (("activation", act), ("hidden", (64,) * p.init_depth)))
            for act, n_configs in (("relu", 5), ("tanh", 7), ("sigmoid", 1)) for _ in range(n_configs)]
    pages["book/initialization"] = [
        # symmetry breaking: 3 starts + 2 nudged constants × seeds, 4,000 training images, 3 epochs
        *[item for _ in range(5 * n_seeds_init)
          for item in run_items("symmetry: MLP(128, 64) × start × seed", symmetry, "torch.SGD", b,
                                (4000, fm[1]), 3)],
        # experiment 1: 5 converging inits × seeds (l-momentum stops before its first step: evaluations only)
        *[item for _ in range(5 * n_seeds_init)
          for item in run_items("MLP × init × seed", MLP_NET, "torch.SGD", b, fm, p.init_epochs)],
        *[item for _ in range(n_seeds_init)
          for item in run_items("l-momentum (stops at step 1)", MLP_NET, "torch.SGD", b, fm, 0)],
        # learning rate chosen per method: LeCun and Kaiming at 3 more learning rates × seeds
        *[item for _ in range(2 * 3 * n_seeds_init)
          for item in run_items("MLP × init × lr × seed", MLP_NET, "torch.SGD", b, fm, p.init_epochs)],
        # experiment 2: 13 (activation, init) pairs of the deep MLP × its own seeds and epochs
        *[item for net in deep for _ in range(len(p.init_deep_seeds))
          for item in run_items("deep MLP × init × seed", net, "torch.SGD", b, fm, p.init_deep_epochs)],
    ]
    # 5.2's learning-rate search runs as long as experiment 2; its length adapts, so count a
    # typical search: the first grid plus SEARCH_EXTRA points on the first seed (the centre is
    # experiment 2's own run for the optimizers it has), then the other seeds at the pick
    # (counted as new runs: a pick away from the centre).
    search_runs = {opt: p.sweep_lrs + SEARCH_EXTRA - (opt in PAGE_OPTIMIZERS) + n_seeds_opt - 1
                   for opt in SWEEP_OPTIMIZERS}
    pages["book/optimizers"] = [
        *run_items("Adam parity, ours", MLP_NET, "Adam", b, fm, 1),
        *run_items("Adam parity, torch", MLP_NET, "torch.Adam", b, fm, 1),
        # update sizes of Adam, uncorrected Adam and Lion: 30 steps per seed, no evaluation
        *[Item("update-size demo (30 steps)", TrainStep(MLP_NET, opt, b), 30 * n_seeds_opt)
          for opt in ("Adam", "Adam", "Lion")],
        *[item for opt in PAGE_OPTIMIZERS for _ in range(n_seeds_opt)
          for item in run_items(f"FashionMNIST MLP, {opt}", MLP_NET, opt, b, fm, p.optim_epochs)],
        # Sophia's diagnostic: the earlier configuration replayed, and five ρ for one epoch
        *run_items("Sophia: earlier configuration", MLP_NET, "Sophia", b, fm, p.optim_epochs),
        *[item for _ in range(5) for item in run_items("Sophia: ρ scan (1 epoch)", MLP_NET, "Sophia", b, fm, 1)],
        *[item for opt, runs in search_runs.items() for _ in range(runs)
          for item in run_items(f"lr search: MLP, {opt}", MLP_NET, opt, b, fm, p.optim_epochs)],
        *[item for net in (cnn, vit) for opt in cifar_opts for _ in p.cifar_seeds
          for item in run_items(f"CIFAR {net.model}, {opt}", net, opt, p.cifar_batch, cifar_sizes, p.cifar_epochs,
                                augment=True)],
    ]
    # 5.3 (book/loss_landscape.md): the reference run, two more for the barrier between
    # independent runs, the Hessian of the whole training subset and of four subsets (SLQ + trace),
    # and the skip-connection study (two inits × two architectures × seeds, plus a depth series)
    n_land = len(p.landscape_seeds)
    n_train = fm[0]
    depths = sorted({max(1, p.skip_depth // 4), max(1, p.skip_depth // 2), p.skip_depth})
    deep = {(d, r): Net("deep_mlp", (("depth", d), ("residual", r), ("width", 64)))
            for d in depths for r in (False, True)}
    pages["book/loss_landscape"] = [
        *chapter_run,
        *[item for _ in range(2) for item in run_items("barrier: chapter_run, two more seeds", MLP_NET,
                                                      "torch.SGD", b, fm, p.landscape_epochs)],
        Item("interpolation (41 α) and barrier lines (6 × 21 α)", SurfacePoint(MLP_NET, p.landscape_eval_samples),
             41 + 6 * 21),
        Item("Hessian: PyHessian and Lanczos top-2, one subset", HessianCell(MLP_NET, p.hessian_samples, "page"), 1),
        Item("Hessian: SLQ (60 steps) + trace (20) per subset", HessianCell(MLP_NET, p.hessian_samples, "subset"), 4),
        Item("Hessian: Lanczos top-2, whole training subset", HessianCell(MLP_NET, n_train, "whole"), 1),
        Item("Hessian: SLQ at initialisation", HessianCell(MLP_NET, p.hessian_samples, "slq60"), 1),
        Item("Hessian: λ1 of three rescaled models", HessianCell(MLP_NET, p.hessian_samples, "lanczos1"), 3),
        Item("two surfaces + PCA plane", SurfacePoint(MLP_NET, p.landscape_eval_samples), 3 * grid),
        Item("rescaling curves and finite differences", SurfacePoint(MLP_NET, p.landscape_eval_samples),
             6 * p.surface_points + 9),
        *[item for (d, r), net in deep.items() for init in ("default", "signal-preserving")
          if init == "signal-preserving" or d == p.skip_depth for _ in range(n_land)
          for item in run_items("skip study: DeepMLP, Adam", net, "torch.Adam", b, fm, p.skip_epochs)],
        *[Item("skip study: SLQ (40 steps)", HessianCell(net, p.hessian_samples, "slq40"),
               n_land * (2 if d == p.skip_depth else 1)) for (d, r), net in deep.items()],
        *[Item("skip study: surface", SurfacePoint(deep[p.skip_depth, r], p.landscape_eval_samples), n_land * grid)
          for r in (False, True)],
    ]
    pages["book/gaussian_paths"] = [
        *chapter_run,   # loaded from the cache when 5.3 ran first; counted for a page run on its own
        Item("surface + line", SurfacePoint(MLP_NET, p.landscape_eval_samples),
             grid + 3 * (p.surface_points - 1) + 1),
        # optimizer paths on the network's own slice: a LossSlice step is a forward and backward
        # pass over the evaluation samples, like a training step on one batch of them
        Item("slice paths (LossSlice steps)", TrainStep(MLP_NET, "torch.SGD", p.landscape_eval_samples),
             SLICE_STEPS),
    ]
    width64 = (("width", 64),)
    deep_kinds = [Net("mlp", (("activation", "sigmoid"), ("hidden", (64,) * (p.skip_depth + 1)))),
                  Net("deep_mlp", (("depth", p.skip_depth), ("residual", False), *width64)),
                  Net("deep_mlp", (("depth", p.skip_depth), ("residual", True), *width64))]
    n_seeds_dyn, warmup = len(p.dynamics_seeds), max(1, p.dynamics_epochs // 3)
    n_train, steps_per_epoch = fm[0], _steps(fm[0], b)
    sharp_samples = SHARPNESS_RUNS * (p.sharpness_steps // SHARPNESS_EVERY + 1) \
        + (p.sharpness_steps // 4) // MOMENTUM_EVERY + 1 \
        + (p.sharpness_steps // 3) // SHARPNESS_EVERY + 1
    pages["book/training_dynamics"] = [
        # the phases run, Kaiming and default init, with the gradient-noise probe: at every epoch
        # end one full-batch gradient and one gradient per minibatch (about two epochs of steps)
        *[item for _ in range(2)
          for item in run_items("tracked MLP", MLP_NET, "SGD", b, fm, p.dynamics_epochs, tracked=True)],
        Item("tracked MLP: gradient-noise probe", TrainStep(MLP_NET, "torch.SGD", b),
             2 * (p.dynamics_epochs + 1) * 2 * steps_per_epoch),
        *[item for net in deep_kinds + [deep_kinds[1]] * 2   # + Kaiming ReLU (SGD) and the ReLU net with Adam
          for item in run_items("tracked deep nets", net, "SGD", b, fm, p.dynamics_epochs, tracked=True)],
        # clipping: three settings × the first three seeds; schedules: four × the seeds; warmup at
        # twice the learning rate: constant (diverges within steps; counted whole) and warmup+cosine
        *[item for _ in range(3 * min(3, n_seeds_dyn) + 4 * n_seeds_dyn + 2 * n_seeds_dyn)
          for item in run_items("MLP: clipping, schedules, warmup", MLP_NET, "SGD", b, fm, p.dynamics_epochs,
                                tracked=True)],
        Item("warmup: λ_max probe", HessianCell(MLP_NET, min(PROBE_SAMPLES, n_train), "probe"),
             n_seeds_dyn * (warmup + 1)),
        # its convergence check: the warmup epochs again per seed, and λ_max at the start and at the
        # end of warmup by 10 and by up to 200 iterations (counted as 21 ten-iteration probes)
        Item("warmup check: training", TrainStep(MLP_NET, "torch.SGD", b),
             n_seeds_dyn * warmup * steps_per_epoch),
        Item("warmup check: λ_max", HessianCell(MLP_NET, min(PROBE_SAMPLES, n_train), "probe"),
             n_seeds_dyn * 2 * 21),
        # full-batch GD (one step = one batch of every image) and λ_max along the way
        Item("sharpness: full-batch GD", TrainStep(SHARP_NET, "torch.SGD", p.sharpness_train),
             SHARPNESS_RUNS * p.sharpness_steps + p.sharpness_steps // 4 + p.sharpness_steps // 3),
        Item("sharpness: λ_max (Lanczos)", HessianCell(SHARP_NET, p.sharpness_train, "sharpness"), sharp_samples),
        Item("sharpness: top-6 check", HessianCell(SHARP_NET, p.sharpness_train, "check"), SHARPNESS_CHECKS),
    ]
    bn_net = Net("bn_mlp", (("batchnorm", True),))
    pages["exercises/applied"] = [
        *[item for bn in (False, True) for _ in range(3 * n_seeds_init)   # 3 scales × the seeds of 5.1
          for item in run_items("ex. 5: MLP ± BN × 3 scales × seeds", Net("bn_mlp", (("batchnorm", bn),)), "SGD", b,
                                fm, p.exercise_epochs)],
        *[item for _ in range(2 * n_seeds_init)   # hidden ×4 only, output ×4 only
          for item in run_items("ex. 5: BN MLP, hidden/output scale apart × seeds", bn_net, "SGD", b, fm,
                                p.exercise_epochs)],
        # the c² learning-rate check (100 steps, three runs) and the plain c = 4 net run on
        # past its divergence (5 steps per seed)
        Item("ex. 5: short runs", TrainStep(bn_net, "SGD", b), 3 * 100 + 5 * n_seeds_init),
    ]
    small = Net("mlp", (("hidden", (128,)),))            # exercise 7's learning-rate search
    fit = (fm[0] * 5 // 6, fm[0] - fm[0] * 5 // 6)      # train on 5/6, validate on the rest
    pages["exercises/advanced"] = [
        Item("ex. 7: Adam/Lion, 20 steps", TrainStep(MLP_NET, "Adam", b), 40),
        *[item for opt in ("Adam", "Lion") for _ in range(6 * n_seeds_init)   # ~6 learning rates × 3 validation seeds
          for item in run_items(f"ex. 7: {opt} on the validation split", small, opt, b, fit, p.exercise_epochs)],
        *[item for opt in ("Adam", "Lion") for _ in range(n_seeds_init)
          for item in run_items(f"ex. 7: {opt} at its pick", small, opt, b, fm, p.exercise_epochs)],
        *[item for _ in range(4 * n_seeds_init)   # four initializations × the seeds of 5.1
          for item in run_items("ex. 8: four inits × seeds", MLP_NET, "SGD", b, fm, p.exercise_epochs)],
    ]
    return pages


# ------------------------------------------------------------------ measuring a unit
@dataclass
class Cost:
    cpu_seconds: float      # measured here, one thread (nan when not needed)
    gpu: OpTotals           # the GPU model's totals (zero when not needed)


def _measure(work, specs: tuple[GpuSpec, ...], cpu: bool, gpu: bool) -> Cost:
    """CPU wall time (best of two, after a warm-up) and/or the GPU model's totals of ``work()``."""
    seconds = math.nan
    if cpu:
        work()
        seconds = best_time(work, repeats=2)
    return Cost(seconds, _priced(work, specs) if gpu else OpTotals())


def _priced(work, specs: tuple[GpuSpec, ...]) -> OpTotals:
    with GpuCostMode(specs) as mode:
        work()
    return mode.totals


def _with_copy(totals: OpTotals, specs: tuple[GpuSpec, ...], nbytes: int) -> OpTotals:
    """Add the host→device copy of a batch (the loaders keep the data on the CPU)."""
    if not totals.seconds:
        return totals
    return OpTotals(tuple(t + nbytes / s.host_to_device for t, s in zip(totals.seconds, specs)),
                    totals.ops, totals.syncs, totals.flops, totals.bytes)


def _train_call(unit: TrainStep, n_steps: int):
    x, y = unit.net.inputs(n_steps * unit.batch)
    data = TensorData(x, y, tuple(map(str, range(MODELS[unit.net.model][2]))), "synthetic")
    probe = TensorData(x[:1], y[:1], data.classes, "synthetic")

    def call():
        model = unit.net.build()
        opt = OPTIMIZERS[unit.optimizer](model.parameters())
        loader = TensorLoader(data, unit.batch, shuffle=True, seed=0,
                              augment=random_crop_flip if unit.augment else None)
        run = tracked_train if unit.tracked else train
        run(model, opt, loader, TensorLoader(probe, 1), 1, progress=False)
    return call


def _fashion_batch(samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    data = load_fashion_mnist(train=True, subset=samples, seed=2)
    return data.x, data.y


def _eval_cost(net: Net, batch: int, specs: tuple[GpuSpec, ...], cpu: bool, gpu: bool) -> Cost:
    """One batch of ``evaluate`` with the batch already where the model is."""
    model, (x, y) = net.build(), net.inputs(batch)
    return _measure(lambda: evaluate(model, (x, y)), specs, cpu, gpu)


def measure(unit: Unit, specs: tuple[GpuSpec, ...], hessian_model: nn.Module, cpu: bool, gpu: bool) -> Cost:
    """Price one unit: measured CPU seconds (``cpu``) and/or the GPU model (``gpu``)."""
    if isinstance(unit, TrainStep):
        # Two runs that differ only in their number of steps (Sophia: by ten, one curvature
        # update), minus the epoch-0 evaluation of the extra batches.
        short, long_ = (10, 20) if unit.optimizer == "Sophia" else (2, 6)
        a = _measure(_train_call(unit, short), specs, cpu, gpu)
        b = _measure(_train_call(unit, long_), specs, cpu, gpu)
        ev = _eval_cost(unit.net, unit.batch, specs, cpu, gpu)
        n = long_ - short
        x, y = unit.net.inputs(unit.batch)
        step = _with_copy((b.gpu - a.gpu).scaled(1 / n) - ev.gpu, specs, x.nbytes + y.nbytes)
        return Cost((b.cpu_seconds - a.cpu_seconds) / n - ev.cpu_seconds, step)
    if isinstance(unit, EvalBatch):
        x, y = unit.net.inputs(unit.batch)
        cost = _eval_cost(unit.net, unit.batch, specs, cpu, gpu)
        return Cost(cost.cpu_seconds, _with_copy(cost.gpu, specs, x.nbytes + y.nbytes))
    if isinstance(unit, SurfacePoint):
        model, batch = unit.net.build(), unit.net.inputs(unit.samples)
        d1, d2 = random_direction(model, seed=1), random_direction(model, seed=2)
        axis = [-0.1, 0.0, 0.1]
        cost = _measure(lambda: loss_surface(model, nn.CrossEntropyLoss(), batch, d1, d2, axis, axis), specs, cpu, gpu)
        return Cost(cost.cpu_seconds / 9, cost.gpu.scaled(1 / 9))
    if isinstance(unit, HessianCell):
        # Iteration counts depend on the spectrum: real data, and for the main cell trained weights.
        trained = unit.kind in ("page", "subset", "whole", "lanczos1") and unit.net == MLP_NET
        model = hessian_model if trained else unit.net.build()
        batch, loss_fn = _fashion_batch(unit.samples), nn.CrossEntropyLoss()
        if unit.kind == "page":
            def work():
                hessian_top_eigen(model, loss_fn, batch, k=2, method="pyhessian", tol=1e-4, seed=0)
                hessian_top_eigen(model, loss_fn, batch, k=2, method="lanczos", tol=1e-3, seed=0)
        elif unit.kind == "subset":
            def work():
                hessian_spectrum(model, loss_fn, batch, steps=60, seed=0)
                hessian_trace(model, loss_fn, batch, n_samples=20, seed=0)
        elif unit.kind == "whole":
            def work():
                hessian_top_eigen(model, loss_fn, batch, k=2, method="lanczos", tol=1e-3, seed=0)
        elif unit.kind in ("slq60", "slq40"):
            def work():
                hessian_spectrum(model, loss_fn, batch, steps=int(unit.kind[3:]), seed=0)
        elif unit.kind in ("sharpness", "probe", "check"):
            k, iterations = {"sharpness": (1, SHARPNESS_ITER), "probe": (1, PROBE_ITER),
                             "check": (CHECK_K, CHECK_ITER)}[unit.kind]

            def work():
                with warnings.catch_warnings():   # few iterations are the page's deliberate estimate
                    warnings.simplefilter("ignore", UserWarning)
                    hessian_top_eigen(model, loss_fn, batch, k=k, method="lanczos", max_iter=iterations, seed=0)
        else:
            def work():
                hessian_top_eigen(model, loss_fn, batch, k=1, method="lanczos", tol=1e-3, seed=0)
        # expensive and deterministic in its work: one timed run, no warm-up
        return Cost(best_time(work, repeats=1) if cpu else math.nan, _priced(work, specs) if gpu else OpTotals())
    raise TypeError(f"unknown unit {unit!r}")


def trained_chapter_model() -> nn.Module:
    """The 5.3 model after `quick` training: the Hessian iteration counts depend on the
    trained spectrum, so the Hessian cells are priced on trained weights."""
    from dldna_helpers.landscape import chapter_run
    model, _, _ = chapter_run(PROFILES["quick"], torch.device("cpu"))
    return model


# ------------------------------------------------------------------ page timing (quick profile)
def time_pages(pages: list[str]) -> dict[str, float]:
    """Execute each committed notebook in the quick profile, each with an empty cache; seconds per page."""
    # DLDNA_JOBS=1: the page's runs one after another, so its time is comparable with the work
    # units, which are timed on one thread (map_runs would hide part of the work in other cores)
    env = {"DLDNA_PROFILE": "quick", "DLDNA_ALLOW_STANDIN": "1", "DLDNA_JOBS": "1"}
    times = {}
    for page in pages:
        times[page] = notebook_seconds(ROOT / f"{page}.ipynb", env, timeout=900)
        print(f"  {page}: {times[page]:.0f} s", flush=True)
    return times


def work_fingerprint(profile: Profile) -> str:
    """A short hash of what the estimate prices for ``profile``: every page's work list (what,
    unit, count) and the two GPU models. ``FULL_PROFILE_T4_WORK`` in ``dldna_helpers.env`` keeps the
    value of the estimate the pages announce; tests/test_gpu_cost.py fails when they part."""
    work = [(page, [(item.what, item.unit, item.count) for item in items])
            for page, items in sorted(page_work(profile).items())]
    return hashlib.sha256(repr((work, T4, T4_PESSIMISTIC)).encode()).hexdigest()[:12]


# ------------------------------------------------------------------ the measured page times, stamped
def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def page_times_stamp(pages: list[str]) -> dict:
    """What the quick page times depend on: the notebooks executed, the helper package and the
    quick sizes (the commit is recorded too, to say where a file came from)."""
    digest = hashlib.sha256()
    for page in sorted(pages):
        path = ROOT / f"{page}.ipynb"
        digest.update(page.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"(missing)") + b"\0")
    stamp = {"commit": _git_commit(), "notebooks": digest.hexdigest()[:16], "helpers": code_fingerprint(),
             "quick_sizes": asdict(PROFILES["quick"]), "sizes_env": os.environ.get("DLDNA_PROFILE_SIZES"),
             "pages": sorted(pages)}
    return json.loads(json.dumps(stamp))   # as it reads back from the file (tuples become lists)


# the commit alone decides nothing: a commit that changes no page, helper or size keeps the times
STAMP_CHECKED = ("notebooks", "helpers", "quick_sizes", "sizes_env", "pages")


def load_page_times(path: Path, stamp: dict) -> tuple[dict[str, float] | None, str]:
    """The page times in ``path`` if its stamp matches ``stamp``; otherwise None and why not."""
    if not path.is_file():
        return None, f"{path.name} does not exist"
    try:
        blob = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return None, f"{path.name} is unreadable ({exc})"
    old = blob.get("stamp") if isinstance(blob, dict) else None
    if not isinstance(old, dict) or not isinstance(blob.get("times"), dict):
        return None, f"{path.name} has no stamp (written by an older version of this script)"
    changed = [key for key in STAMP_CHECKED if old.get(key) != stamp[key]]
    if changed:
        return None, (f"{path.name} is stale: {', '.join(changed)} changed since it was measured "
                      f"(at commit {old.get('commit')}; now {stamp['commit']})")
    return {k: float(v) for k, v in blob["times"].items()}, (
        f"{path.name}, measured at commit {old.get('commit')} for the same notebooks, helpers and sizes")


def save_page_times(path: Path, stamp: dict, times: dict[str, float]) -> None:
    save_atomic({"stamp": stamp, "times": times}, path)


def quick_page_times(path: Path, pages: list[str], force: bool = False) -> dict[str, float]:
    """The quick page times: read from ``path`` when its stamp matches this checkout, else (or
    with ``force``) measured again by executing the pages, saved with a new stamp."""
    stamp = page_times_stamp(pages)
    times, why = (None, "--pages asks for it") if force else load_page_times(path, stamp)
    if times is not None:
        print(f"Quick page times from {why}.")
        return times
    # never reuse times measured for other notebooks, helpers or sizes: measure them again
    print(f"Executing every page in the quick profile, each with an empty cache ({why}):", flush=True)
    times = time_pages(pages)
    save_page_times(path, stamp, times)
    return times


# ------------------------------------------------------------------ report
def _overrides(pairs: list[str]) -> dict[str, int]:
    known = {f.name for f in fields(Profile)}
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in known or not value.isdigit():
            raise SystemExit(f"--full expects FIELD=INT with FIELD one of {sorted(known)}, got {pair!r}")
        out[name] = int(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", action="store_true",
                        help="execute every page in the quick profile to measure the remainder (≈5 min); "
                             "also done without this flag when page_times.json is missing or stale")
    parser.add_argument("--full", nargs="*", default=[], metavar="FIELD=INT",
                        help="what-if sizes for the full profile, e.g. --full cifar_epochs=40")
    args = parser.parse_args()
    full_profile = replace(PROFILES["full"], **_overrides(args.full))
    torch.set_num_threads(1)   # as setup_page does for the quick profile on a CPU
    specs = (T4, T4_PESSIMISTIC)
    quick, full = page_work(PROFILES["quick"]), page_work(full_profile)
    if args.full:
        print(f"What-if full profile: {', '.join(args.full)}")
    quick_units = {item.unit for items in quick.values() for item in items}
    full_units = {item.unit for items in full.values() for item in items}
    hessian_model = trained_chapter_model()
    print(f"Pricing {len(quick_units | full_units)} units of work. GPU models:")
    for spec in specs:
        print(f"  {spec.describe()}")
    costs: dict[Unit, Cost] = {}
    for unit in sorted(quick_units | full_units, key=repr):
        costs[unit] = measure(unit, specs, hessian_model, cpu=unit in quick_units, gpu=unit in full_units)

    measured = quick_page_times(RESULTS / "page_times.json", list(full), force=args.pages)

    print(f"\n{'page':<25}{'quick: measured':>16}{'predicted work':>15}{'remainder':>10}"
          f"{'full, T4 (min)':>16}{'pessimistic':>12}")
    worst = [(0.0, "")] * len(specs)
    for page in full:
        quick_cpu = sum(item.count * costs[item.unit].cpu_seconds for item in quick[page])
        page_time = measured.get(page)
        remainder = max(0.0, page_time - quick_cpu) if page_time is not None else 0.0
        minutes = [(sum(item.count * costs[item.unit].gpu.seconds[i] for item in full[page]) + remainder) / 60
                   for i in range(len(specs))]
        worst = [max(w, (m, page)) for w, m in zip(worst, minutes)]
        shown = f"{page_time:.0f} s" if page_time is not None else "—"
        print(f"{page:<25}{shown:>16}{quick_cpu:>13.0f} s{remainder:>8.0f} s{minutes[0]:>16.1f}{minutes[1]:>12.1f}")
        parts: dict[str, float] = {}
        for item in full[page]:
            parts[item.what] = parts.get(item.what, 0.0) + item.count * costs[item.unit].gpu.seconds[0] / 60
        for what, m in sorted(parts.items(), key=lambda kv: -kv[1]):
            if m >= 0.5:
                print(f"{'':<27}{what}: {m:.1f} min")
    print("\none training step on the T4 model (ms): " + ", ".join(
        f"{u.net.label()}/{u.optimizer}{'/tracked' if u.tracked else ''} {1e3 * costs[u].gpu.seconds[0]:.2f}"
        for u in sorted(full_units, key=repr) if isinstance(u, TrainStep)))
    (nominal, page), (pessimistic, pess_page) = worst
    print(f"work list fingerprint: {work_fingerprint(full_profile)} (FULL_PROFILE_T4_WORK in dldna_helpers/env.py "
          "names the estimate the pages announce)")
    print(f"largest page in the full profile on one {T4.name}: {nominal:.1f} min ({page}; pessimistic "
          f"{pessimistic:.1f} min, {pess_page}), budget {BUDGET_MINUTES:.0f} min, ratio {nominal / BUDGET_MINUTES:.2f}")


if __name__ == "__main__":
    main()
