"""The GPU cost model behind bench/estimate_full_profile.py: counts checked against hand arithmetic."""
import math
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from gpu_cost import T4, GpuCostMode, GpuSpec, op_seconds  # noqa: E402

import estimate_full_profile as estimate  # noqa: E402
from dldna_helpers.env import PROFILES  # noqa: E402

TOY = GpuSpec("toy", peak_flops=1e9, bandwidth=1e9, host_to_device=1e9, compute_efficiency=1.0,
              memory_efficiency=1.0, op_overhead=1e-6, sync_latency=5e-6)


def test_matmul_is_priced_by_its_flops_and_bytes():
    a, b = torch.randn(64, 32), torch.randn(32, 16)
    with GpuCostMode((TOY,)) as mode:
        a @ b
    totals = mode.totals
    flops, nbytes = 2 * 64 * 32 * 16, 4 * (64 * 32 + 32 * 16 + 64 * 16)
    assert totals.ops == 1 and totals.flops == flops and totals.bytes == nbytes
    assert totals.seconds == (pytest.approx(max(flops, nbytes) / 1e9),)


def test_views_cost_nothing_and_item_is_a_sync():
    x = torch.randn(10, 10)
    with GpuCostMode((TOY,)) as mode:
        x.view(100)[:5].unsqueeze(0)
        float(x.sum())
        x.t().reshape(100)          # not a view: the transposed data must be copied (clone)
    totals = mode.totals
    assert totals.syncs == 1 and totals.ops == 2            # the sum and the copy; views launch nothing
    assert totals.seconds == (pytest.approx(op_seconds(TOY, 0, 4 * 101) + TOY.sync_latency
                                            + op_seconds(TOY, 0, 4 * 200)),)


def test_small_ops_pay_the_launch_floor():
    assert op_seconds(T4, flops=10, nbytes=40) == T4.op_overhead
    big = 1e12
    assert op_seconds(T4, flops=big, nbytes=0) == pytest.approx(big / (T4.peak_flops * T4.compute_efficiency))


def test_cpu_attention_counts_the_flops_of_the_gpu_kernel():
    b, h, n, d = 2, 4, 16, 8
    q, k, v = (torch.randn(b, h, n, d) for _ in range(3))
    with GpuCostMode((TOY,)) as mode:
        F.scaled_dot_product_attention(q, k, v)
    assert mode.totals.flops == 2 * (2 * b * h * n * n * d)     # QKᵀ and the weighted sum of V


def test_training_step_unit_is_positive_and_counts_one_sync_per_loss_read():
    unit = estimate.TrainStep(estimate.MLP_NET, "SGD", batch=16)
    cost = estimate.measure(unit, (TOY,), hessian_model=None, cpu=False, gpu=True)
    assert math.isnan(cost.cpu_seconds)
    assert cost.gpu.ops > 20 and cost.gpu.seconds[0] > 0
    assert cost.gpu.syncs >= 2   # the loss value and the gradient norm are read on the host every step


def test_work_lists_follow_the_profile_sizes():
    quick = PROFILES["quick"]
    items = estimate.page_work(quick)["book/pipeline"]
    steps = sum(i.count for i in items if isinstance(i.unit, estimate.TrainStep))
    assert steps == len(quick.pipeline_seeds) * quick.pipeline_epochs * math.ceil(quick.fmnist_train / quick.batch_size)
    full = estimate.page_work(PROFILES["full"])["book/initialization"]
    runs = sum(1 for i in full if isinstance(i.unit, estimate.TrainStep))
    # symmetry: 3 starts + 2 nudged constants; experiment 1: 5 inits (+ l-momentum, stopped before its
    # first step) and LeCun/Kaiming at 3 more learning rates; experiment 2: 13 pairs × its own seeds
    full_profile = PROFILES["full"]
    assert runs == (5 + 5 + 1 + 2 * 3) * len(full_profile.init_seeds) + 13 * len(full_profile.init_deep_seeds)


def test_what_if_sizes_reject_unknown_fields():
    assert estimate._overrides(["cifar_epochs=40"]) == {"cifar_epochs": 40}
    with pytest.raises(SystemExit, match="cifar_epochs"):
        estimate._overrides(["cifar_epoch=40"])
    with pytest.raises(SystemExit, match="FIELD=INT"):
        estimate._overrides(["cifar_epochs=many"])


def test_the_estimate_counts_every_profile_dependent_run():
    """5.2's learning-rate search and CIFAR seeds, and 5.5's sharpness runs, are in the work lists."""
    full = PROFILES["full"]
    work = estimate.page_work(full)
    search = [i for i in work["book/optimizers"] if i.what.startswith("lr search") and isinstance(i.unit, estimate.TrainStep)]
    steps_per_run = -(-60000 // full.batch_size) * full.optim_epochs   # as long as experiment 2
    per_optimizer = full.sweep_lrs + estimate.SEARCH_EXTRA + len(full.optim_seeds) - 1
    runs = 8 * per_optimizer - 5                    # the centre of five is experiment 2's own run
    assert sum(i.count for i in search) == runs * steps_per_run
    cifar = [i for i in work["book/optimizers"] if i.what.startswith("CIFAR") and isinstance(i.unit, estimate.TrainStep)]
    assert len(cifar) == 2 * 3 * len(full.cifar_seeds)
    assert all(i.unit.batch == full.cifar_batch for i in cifar)
    sharp = {i.what: i for i in work["book/training_dynamics"] if i.what.startswith("sharpness")}
    # five full-length GD runs and two momentum runs (a quarter and a third of the steps)
    assert sharp["sharpness: full-batch GD"].count == (5 * full.sharpness_steps + full.sharpness_steps // 4
                                                       + full.sharpness_steps // 3)
    assert sharp["sharpness: full-batch GD"].unit.batch == full.sharpness_train
    assert sharp["sharpness: λ_max (Lanczos)"].unit.kind == "sharpness"
    assert sharp["sharpness: λ_max (Lanczos)"].count >= 5 * (full.sharpness_steps // 5)   # every 5 steps
    schedules = [i for i in work["book/training_dynamics"] if i.what.startswith("MLP: clipping")
                 and isinstance(i.unit, estimate.TrainStep)]
    assert len(schedules) == 3 * min(3, len(full.dynamics_seeds)) + 6 * len(full.dynamics_seeds)


def test_the_announced_estimate_priced_the_current_work_lists():
    """The minutes a full-profile page announces (FULL_PROFILE_T4_MINUTES) came from an estimate of
    exactly this work: a change of the full profile, of a work list or of the GPU model without a
    new estimate fails here (5.1 once announced 12 minutes after its deep experiment had grown to 17)."""
    from dldna_helpers.env import FULL_PROFILE_T4_WORK

    now = estimate.work_fingerprint(PROFILES["full"])
    assert now == FULL_PROFILE_T4_WORK, (
        f"the work the full-profile estimate prices changed (fingerprint {now}, the announced minutes "
        f"are for {FULL_PROFILE_T4_WORK}): run `.venv/bin/python bench/estimate_full_profile.py --pages`, "
        "then copy its minutes and fingerprint into FULL_PROFILE_T4_MINUTES/FULL_PROFILE_T4_WORK "
        "(dldna_helpers/env.py) and README's table")
    assert estimate.work_fingerprint(replace(PROFILES["full"], cifar_epochs=PROFILES["full"].cifar_epochs + 1)) != now
