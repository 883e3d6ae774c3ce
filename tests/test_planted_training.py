"""The training loop's bookkeeping, pinned exactly: where a run is declared diverged, and the
per-sample weighting of every mean loss when the last batch is smaller than the others.

Each test here was checked by planting the bug it names in ``dldna_helpers.training`` once
and seeing it fail (issue 18)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dldna_helpers.training import DIVERGENCE_LOSS, evaluate, train


class ScriptedLoss(nn.Module):
    """Cross entropy plus a scripted offset at each *training* step (1-based), so a test decides
    exactly which mini-batch loss the loop sees. Evaluation runs under ``no_grad`` and gets no
    offset. The offset is a constant: the gradient, and so the weights, are unchanged by it."""

    def __init__(self, offsets: dict[int, float]) -> None:
        super().__init__()
        self.offsets, self.step = offsets, 0

    def forward(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = F.cross_entropy(out, y)
        if not torch.is_grad_enabled():
            return loss
        self.step += 1
        return loss + self.offsets.get(self.step, 0.0)


def _data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 5, generator=gen), torch.randint(0, 3, (n,), generator=gen)


def _batches(x: torch.Tensor, y: torch.Tensor, sizes: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    out, i = [], 0
    for s in sizes:
        out.append((x[i:i + s], y[i:i + s]))
        i += s
    assert i == len(y)
    return out


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))


BATCHES_PER_EPOCH = 4


def _run(offsets: dict[int, float], epochs: int = 3, **kwargs):
    x, y = _data(4 * BATCHES_PER_EPOCH)
    loader = _batches(x, y, [4] * BATCHES_PER_EPOCH)
    model = _model()
    loss_fn = ScriptedLoss(offsets)
    history = train(model, torch.optim.SGD(model.parameters(), lr=0.01), loader, (x, y), epochs,
                    loss_fn=loss_fn, **kwargs)
    return history


# ------------------------------------------------------------------ divergence detection
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_loss_stops_at_that_exact_step(bad):
    # step 6 is the second mini-batch of epoch 2; the loss is far below the threshold otherwise
    history = _run({6: bad})
    assert history.diverged
    assert (history.diverged_step, history.diverged_epoch) == (6, 2)
    assert len(history.step_loss) == 6
    assert not math.isfinite(history.step_loss[-1]) and all(math.isfinite(v) for v in history.step_loss[:-1])
    assert history.epochs == 1          # only epoch 1 finished; no partial epoch is appended
    assert history.status() == "발산 (6번째 스텝)"


def test_threshold_trigger_alone_stops_at_that_exact_step():
    # finite but above the threshold, at step 9 = first mini-batch of epoch 3
    history = _run({9: 2 * DIVERGENCE_LOSS})
    assert history.diverged and (history.diverged_step, history.diverged_epoch) == (9, 3)
    assert len(history.step_loss) == 9 and math.isfinite(history.step_loss[-1])
    assert history.step_loss[-1] > DIVERGENCE_LOSS
    assert history.epochs == 2


def test_threshold_is_the_one_passed_in():
    history = _run({3: 50.0}, divergence_loss=20.0)
    assert history.diverged and (history.diverged_step, history.diverged_epoch) == (3, 1)
    assert history.epochs == 0


def test_large_but_finite_loss_below_the_threshold_does_not_diverge():
    # large losses just below the threshold at several steps: the run must finish
    offsets = {2: 0.999 * DIVERGENCE_LOSS, 7: 0.5 * DIVERGENCE_LOSS, 12: DIVERGENCE_LOSS - 10.0}
    history = _run(offsets)
    assert not history.diverged and history.diverged_step is None and history.diverged_epoch is None
    assert history.epochs == 3 and len(history.step_loss) == 3 * BATCHES_PER_EPOCH
    assert history.step_loss[1] > 0.99 * DIVERGENCE_LOSS
    assert history.status() == "완료"


# ------------------------------------------------------------------ per-sample weighting
SIZES = [5, 5, 5, 2]   # a ragged last batch: 17 samples


def _per_sample_mean(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """The reference: the mean of the per-sample losses over all samples, by hand."""
    with torch.no_grad():
        out = model(x)
        per_sample = F.cross_entropy(out, y, reduction="none")
        return float(per_sample.sum()) / len(y), float((out.argmax(1) == y).sum()) / len(y)


def test_evaluate_weights_a_ragged_last_batch_by_its_samples():
    x, y = _data(sum(SIZES), seed=3)
    model = _model(1)
    loss, acc = evaluate(model, _batches(x, y, SIZES))
    ref_loss, ref_acc = _per_sample_mean(model, x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-6)
    assert acc == pytest.approx(ref_acc, abs=1e-12)
    # the mean of batch means differs clearly here, so the check above can tell them apart
    with torch.no_grad():
        batch_means = [float(F.cross_entropy(model(xb), yb)) for xb, yb in _batches(x, y, SIZES)]
    assert abs(sum(batch_means) / len(batch_means) - ref_loss) > 1e-3


def test_training_loss_of_an_epoch_is_the_mean_over_samples():
    """With lr = 0 the weights never move, so an epoch's train loss and accuracy must equal the
    per-sample mean at the initial weights, whatever the batch sizes."""
    x, y = _data(sum(SIZES), seed=3)
    model = _model(1)
    ref_loss, ref_acc = _per_sample_mean(model, x, y)
    loader = _batches(x, y, SIZES)
    history = train(model, torch.optim.SGD(model.parameters(), lr=0.0), loader, loader, 2)
    for epoch in (0, 1, 2):
        assert history.train_loss[epoch] == pytest.approx(ref_loss, rel=1e-6)
        assert history.test_loss[epoch] == pytest.approx(ref_loss, rel=1e-6)
        assert history.train_acc[epoch] == pytest.approx(ref_acc, abs=1e-12)
    # every mini-batch loss is recorded as that batch's own mean
    with torch.no_grad():
        expected_steps = [float(F.cross_entropy(model(xb), yb)) for xb, yb in loader] * 2
    assert history.step_loss == pytest.approx(expected_steps, rel=1e-6)
