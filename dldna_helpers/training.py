"""Training loop of the chapter: per-epoch metrics, divergence detection, checkpoint cache.

``train`` records, per epoch, the train/test loss and accuracy and the mean global
gradient L2 norm; it stops at the first non-finite (or exploding) loss and reports the
run as diverged instead of printing ``nan``. With ``cache_config`` it keeps a checkpoint
per epoch in a folder keyed by a hash of the run's configuration (:mod:`.run_cache`),
published in one step when the run ends, and a later call with the same configuration
loads the finished run instead of training again: the same weights, optimizer state,
history and random state (the loader's shuffle generator) as a fresh run leaves.
"""
from __future__ import annotations

import base64
import copy
import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import torch
from torch import nn

from . import parallel, run_cache
from .run_cache import (  # noqa: F401  (re-exported: part of this module's API)
    CacheCorruptError, CacheWarning, code_fingerprint, compute_fingerprint, config_key, run_dir, source_hash,
)
from .storage import save_atomic  # noqa: F401  (re-exported: part of this module's API)

DIVERGENCE_LOSS = 1e4  # a cross-entropy this large means the weights have blown up


@dataclass
class History:
    """What a run produced, epoch by epoch (index 0 is the state before training)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)   # mean global grad L2 norm per epoch (nan at 0)
    step_loss: list[float] = field(default_factory=list)   # every mini-batch loss
    diverged: bool = False
    diverged_step: int | None = None
    diverged_epoch: int | None = None
    wall_time: float = 0.0
    # per test sample after the last epoch (None for a diverged run): which were classified
    # correctly (bits, packed as hex) and each sample's loss (float32, base64) — what a paired
    # comparison of two methods on the same test set needs (:mod:`.stats`)
    test_correct: str | None = None
    test_sample_loss: str | None = None
    from_cache: bool = False

    @property
    def epochs(self) -> int:
        return len(self.test_loss) - 1

    def test_errors(self) -> np.ndarray:
        """1.0 for every test sample the final model got wrong, 0.0 for the rest (float64)."""
        if self.test_correct is None:
            raise ValueError("this run has no per-sample test results (it diverged, or was evaluated "
                             "without them); leave it out of the comparison")
        correct = np.unpackbits(np.frombuffer(bytes.fromhex(self.test_correct[8:]), dtype=np.uint8))
        return 1.0 - correct[:int(self.test_correct[:8], 16)].astype(np.float64)

    def test_losses(self) -> np.ndarray:
        """The final model's loss on every test sample (float64)."""
        if self.test_sample_loss is None:
            raise ValueError("this run has no per-sample test losses (it diverged); leave it out of the comparison")
        return np.frombuffer(base64.b64decode(self.test_sample_loss), dtype="<f4").astype(np.float64)

    def status(self) -> str:
        """'완료' or '발산 (n번째 스텝)' — what a table shows instead of nan."""
        return f"발산 ({self.diverged_step}번째 스텝)" if self.diverged else "완료"

    def to_json(self) -> dict[str, Any]:
        blob = asdict(self)
        del blob["from_cache"]  # a property of how this object was obtained, not of the run
        return blob

    @classmethod
    def from_json(cls, blob: Mapping[str, Any]) -> "History":
        """The inverse of :meth:`to_json`; a field missing from ``blob`` is an error, not an empty list."""
        names = [n for n in cls.__dataclass_fields__ if n != "from_cache"]
        missing = [n for n in names if n not in blob]
        if missing:
            raise ValueError(f"history record lacks the field(s) {', '.join(missing)}")
        return cls(**{n: blob[n] for n in names})


def seed_mean(histories: Iterable[History], field: str) -> np.ndarray:
    """The per-epoch (or per-step) ``field`` of several runs averaged over the runs; a diverged run
    stops early, so the mean covers the epochs every run has."""
    curves = [getattr(h, field) for h in histories]
    if not curves:
        raise ValueError("seed_mean needs at least one history")
    n = min(len(c) for c in curves)
    return np.mean([c[:n] for c in curves], axis=0)


class DataProblemError(ValueError):
    """The inputs themselves are broken (non-finite values): a data problem, not a divergence."""


def check_finite_inputs(xb: torch.Tensor, what: str) -> None:
    """Refuse a batch of floating-point inputs that holds nan or inf, naming where it came from."""
    if xb.is_floating_point() and not bool(torch.isfinite(xb).all()):
        bad = int((~torch.isfinite(xb)).sum())
        raise DataProblemError(
            f"{what} contains {bad} non-finite input value(s) (nan/inf): the data is broken, "
            "not the training; check how the tensors were made or normalised"
        )


def _batches(data: Any) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """``data`` is a loader of (x, y) batches or a single ``(x, y)`` tuple of tensors."""
    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        return [data]
    return data


@torch.no_grad()
def evaluate(model: nn.Module, data: Any, loss_fn: nn.Module | None = None,
             device: torch.device | None = None) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``data`` (loader or ``(x, y)``), in eval mode."""
    loss, acc, _ = _evaluate(model, data, loss_fn, device, per_sample=False)
    return loss, acc


@torch.no_grad()
def evaluate_samples(model: nn.Module, data: Any, loss_fn: nn.Module | None = None,
                     device: torch.device | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample loss and correctness (0/1) of ``model`` over ``data``, in data order."""
    _, _, (losses, correct) = _evaluate(model, data, loss_fn, device, per_sample=True)
    return losses, correct


@torch.no_grad()
def _evaluate(model, data, loss_fn, device, per_sample: bool):
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = device or next(model.parameters()).device
    sample_loss_fn = None
    if per_sample:
        sample_loss_fn = copy.copy(loss_fn)
        if not hasattr(sample_loss_fn, "reduction"):
            raise ValueError(f"per-sample losses need a loss with a 'reduction' attribute, got {type(loss_fn).__name__}")
        sample_loss_fn.reduction = "none"
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    losses, hits = [], []
    for i, (xb, yb) in enumerate(_batches(data)):
        check_finite_inputs(xb, f"evaluation batch {i}")
        xb, yb = xb.to(device), yb.to(device)
        out = model(xb)
        total_loss += float(loss_fn(out, yb)) * len(yb)
        hit = out.argmax(1) == yb
        correct += int(hit.sum())
        count += len(yb)
        if per_sample:
            losses.append(sample_loss_fn(out, yb).float().cpu())
            hits.append(hit.cpu())
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluation data is empty: no batches were produced")
    samples = (torch.cat(losses).numpy(), torch.cat(hits).numpy().astype(np.uint8)) if per_sample else None
    return total_loss / count, correct / count, samples


def _pack_samples(losses: np.ndarray, correct: np.ndarray) -> tuple[str, str]:
    """The per-sample results as two JSON-friendly strings (see :class:`History`)."""
    bits = f"{len(correct):08x}" + np.packbits(correct.astype(np.uint8)).tobytes().hex()
    return bits, base64.b64encode(losses.astype("<f4").tobytes()).decode("ascii")


def global_grad_norm(parameters: Iterable[nn.Parameter]) -> float:
    """L2 norm of all gradients taken together (the norm of their concatenation)."""
    norms = [torch.linalg.vector_norm(p.grad.detach()) for p in parameters if p.grad is not None]
    if not norms:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack(norms)))


# ------------------------------------------------------------------ checkpoint cache
HISTORY_FIELDS = ("train_loss", "train_acc", "test_loss", "test_acc", "grad_norm", "step_loss",
                  "diverged", "diverged_step", "diverged_epoch", "wall_time", "test_correct", "test_sample_loss")


def _read_history(folder: Path, manifest: Mapping[str, Any]) -> History:
    blob = run_cache.load_json_file(folder, manifest, "history.json")
    run_cache.require_fields(blob, HISTORY_FIELDS, folder / "history.json")
    history = History.from_json(blob)
    if len(history.test_loss) != manifest["epochs"] + 1:
        raise CacheCorruptError(f"{folder / 'history.json'} records {history.epochs} epochs, "
                                f"{run_cache.MANIFEST} {manifest['epochs']}")
    return history


def load_checkpoints(config: Mapping[str, Any]) -> list[tuple[int, dict[str, torch.Tensor]]]:
    """The per-epoch state dicts of a finished cached run, ordered by epoch number (numerically).

    Refuses a run that is not finished or whose files are damaged, naming the folder and the
    command that clears it (``train`` with the same configuration then computes it again)."""
    folder = run_dir(config)
    if not folder.exists():
        raise FileNotFoundError(f"no checkpoints cached for this configuration in {folder}; run train(...) first")
    try:
        manifest = run_cache.read_manifest(folder)
        run_cache.verify_all(folder, manifest)
        return [(epoch, run_cache.load_tensor_file(folder, manifest, name))
                for epoch, name in run_cache.epoch_files(manifest)]
    except CacheCorruptError as err:
        raise CacheCorruptError(f"{err}. Clear it with `{run_cache.fix_command(folder)}` and run "
                                "train(...) with this configuration again") from err


def load_record(config: Mapping[str, Any], name: str) -> Any:
    """A JSON record stored with a finished run through ``train(..., extra_records=...)``."""
    folder = run_dir(config)
    return run_cache.load_json_file(folder, run_cache.read_manifest(folder), f"{name}.json")


def _load_finished_run(folder: Path, start: Mapping[str, Any], model: nn.Module,
                       optimizer: torch.optim.Optimizer, train_loader: Any) -> History | None:
    """The cached run in ``folder`` loaded into ``model``/``optimizer``, or ``None`` when it does not
    apply to this start (another state of a random generator it draws from);
    :class:`CacheCorruptError` when it is damaged."""
    manifest = run_cache.read_manifest(folder)
    recorded = run_cache.require_fields(manifest["random_start"], ("uses", "digest"), folder / run_cache.MANIFEST)
    if run_cache.state_digest(start, recorded["uses"]) != recorded["digest"]:
        return None
    run_cache.verify_all(folder, manifest)
    history = _read_history(folder, manifest)
    weights = run_cache.load_tensor_file(folder, manifest, manifest["final"])
    optimizer_state = run_cache.load_tensor_file(folder, manifest, "optimizer.pt")
    random_end = run_cache.load_tensor_file(folder, manifest, "random_state.pt")
    model_before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer_before = copy.deepcopy(optimizer.state_dict())
    try:
        model.load_state_dict(weights)
        optimizer.load_state_dict(optimizer_state)
    except (RuntimeError, ValueError, KeyError) as err:
        # a failed load may have copied some tensors already: the recomputed run must start clean
        model.load_state_dict(model_before)
        optimizer.load_state_dict(optimizer_before)
        raise CacheCorruptError(f"{folder} does not fit this model or optimizer ({err})") from err
    run_cache.restore_random_state(train_loader, random_end, recorded["uses"])
    history.from_cache = True
    return history


# ------------------------------------------------------------------ the loop
def _use_progress_bar(progress: bool | None, total_steps: int) -> bool:
    if parallel.in_worker():   # a forked worker's bar would write to the kernel's sockets
        return False
    return bool(progress) if progress is not None else total_steps >= 2000


def _is_bad(value: float, limit: float) -> bool:
    return not math.isfinite(value) or value > limit


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable,
    test_loader: Any,
    epochs: int,
    *,
    loss_fn: nn.Module | None = None,
    device: torch.device | None = None,
    scheduler: Any = None,
    clip_grad_norm: float | None = None,
    clip_grad_value: float | None = None,
    after_backward: Callable[[nn.Module], None] | None = None,
    on_epoch_end: Callable[[int, nn.Module, History], None] | None = None,
    cache_config: Mapping[str, Any] | None = None,
    extra_records: Callable[[History], Mapping[str, Any]] | None = None,
    progress: bool | None = None,
    divergence_loss: float = DIVERGENCE_LOSS,
) -> History:
    """Train ``model`` for ``epochs`` and return its :class:`History`.

    - Stops at the first mini-batch whose loss is nan/inf or above ``divergence_loss``, or at the
      first epoch whose test loss is not finite; ``History.diverged``, ``diverged_step`` and
      ``diverged_epoch`` say where. A diverged run returns (and caches) the model and optimizer
      as they were when it stopped; its history holds the epochs completed before.
    - Inputs with nan/inf raise :class:`DataProblemError` (a data problem, not a divergence).
    - Optimizers that estimate curvature (Sophia) expose ``hessian_due()`` and
      ``update_hessian(model, x, y, loss_fn)``; the loop calls them before ``step()``.
    - ``scheduler.step()`` runs once per epoch.
    - With ``cache_config`` (JSON values, tensors or arrays: :func:`run_cache.canonical`), the
      run's checkpoints ``epoch_0.pt`` …, optimizer state, history, the records returned by
      ``extra_records(history)`` (name → JSON value, read back with :func:`load_record`) and the
      final random state are published together in :func:`run_dir` when the run ends. An identical
      configuration that starts from the same random state (the loader's generator and torch's
      global one) later loads the run and leaves everything as the fresh run did; a damaged
      cache is reported with its path and recomputed.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    for name, value in (("clip_grad_norm", clip_grad_norm), ("clip_grad_value", clip_grad_value)):
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be positive or None, got {value!r}")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = device or next(model.parameters()).device
    model.to(device)

    folder = run_dir(cache_config) if cache_config is not None else None
    start = run_cache.random_state(train_loader)
    replace = False
    if folder is not None and folder.exists():
        try:
            history = _load_finished_run(folder, start, model, optimizer, train_loader)
        except CacheCorruptError as err:
            warnings.warn(f"{err}; recomputing the run and replacing {folder}", CacheWarning, stacklevel=2)
            replace = True
        else:
            if history is not None:
                return history
            warnings.warn(
                f"the cached run {folder} started from another random state (a shared loader that an "
                "earlier run advanced, or a cell run twice): training afresh without caching. Give each "
                "run its own seeded loader to reuse the cache.", CacheWarning, stacklevel=2)
            folder = None
    writer = run_cache.RunWriter(folder) if folder is not None else None
    try:
        history = _run(model, optimizer, train_loader, test_loader, epochs, loss_fn, device, scheduler,
                       clip_grad_norm, clip_grad_value, after_backward, on_epoch_end, progress,
                       divergence_loss, writer)
        if writer is not None:
            for name, record in (extra_records(history) if extra_records is not None else {}).items():
                writer.save(record, f"{name}.json")
            writer.save(optimizer.state_dict(), "optimizer.pt")
            end = run_cache.random_state(train_loader)
            uses = run_cache.used_parts(start, end)
            writer.save(end, "random_state.pt")
            writer.save(history.to_json(), "history.json")
            final = "stopped.pt" if history.diverged else f"epoch_{history.epochs}.pt"
            if history.diverged:
                writer.save(model.state_dict(), final)
            random_start = {"uses": uses, "digest": run_cache.state_digest(start, uses)}
            writer.commit({"epochs": history.epochs, "final": final, "random_start": random_start,
                           "config": run_cache.canonical(dict(cache_config))}, replace=replace)
    finally:
        if writer is not None and writer.folder.exists():
            writer.discard()  # interrupted or failed: nothing half-written is left behind
    return history


def _run(model, optimizer, train_loader, test_loader, epochs, loss_fn, device, scheduler,
         clip_grad_norm, clip_grad_value, after_backward, on_epoch_end, progress, divergence_loss,
         writer) -> History:
    """The loop of :func:`train` (arguments as there); checkpoints go to ``writer`` if given."""
    history = History()
    start = time.perf_counter()
    loss0, acc0 = evaluate(model, train_loader, loss_fn, device)
    tloss0, tacc0, samples0 = _evaluate(model, test_loader, loss_fn, device, per_sample=epochs == 0)
    if samples0 is not None:
        history.test_correct, history.test_sample_loss = _pack_samples(*samples0)
    history.train_loss.append(loss0)
    history.train_acc.append(acc0)
    history.test_loss.append(tloss0)
    history.test_acc.append(tacc0)
    history.grad_norm.append(math.nan)
    if writer is not None:
        writer.save(model.state_dict(), "epoch_0.pt")
    if not math.isfinite(tloss0):  # training goes on: its first step stops it if the weights are the cause
        warnings.warn(f"the test loss of the untrained model is {tloss0}", RuntimeWarning, stacklevel=3)

    n_batches = len(train_loader) if hasattr(train_loader, "__len__") else 0
    bar = None
    if _use_progress_bar(progress, n_batches * epochs):
        from tqdm.auto import tqdm

        bar = tqdm(total=n_batches * epochs, desc="학습", leave=False)

    step = 0
    params = [p for p in model.parameters() if p.requires_grad]
    for epoch in range(1, epochs + 1):
        model.train()
        loss_sum, correct, count, norm_sum, n_steps = 0.0, 0, 0, 0.0, 0
        for xb, yb in train_loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            step += 1
            value = float(loss.detach())
            if _is_bad(value, divergence_loss):
                history.diverged, history.diverged_step, history.diverged_epoch = True, step, epoch
                history.step_loss.append(value)
                break
            loss.backward()
            if after_backward is not None:
                after_backward(model)
            norm_sum += global_grad_norm(params)
            if clip_grad_value is not None:
                nn.utils.clip_grad_value_(params, clip_grad_value)
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(params, clip_grad_norm)
            hessian_due = getattr(optimizer, "hessian_due", None)
            if hessian_due is not None and hessian_due():
                optimizer.update_hessian(model, xb, yb, loss_fn)
            optimizer.step()
            history.step_loss.append(value)
            loss_sum += value * len(yb)
            correct += int((out.detach().argmax(1) == yb).sum())
            count += len(yb)
            n_steps += 1
            if bar is not None:
                bar.update(1)
        if history.diverged:
            break
        if scheduler is not None:
            scheduler.step()
        test_loss, test_acc, samples = _evaluate(model, test_loader, loss_fn, device, per_sample=epoch == epochs)
        if not math.isfinite(test_loss):  # finite training losses, but the test data overflows
            history.diverged, history.diverged_step, history.diverged_epoch = True, step, epoch
            break
        history.train_loss.append(loss_sum / max(count, 1))
        history.train_acc.append(correct / max(count, 1))
        history.test_loss.append(test_loss)
        history.test_acc.append(test_acc)
        history.grad_norm.append(norm_sum / max(n_steps, 1))
        if samples is not None:
            history.test_correct, history.test_sample_loss = _pack_samples(*samples)
        if writer is not None:
            writer.save(model.state_dict(), f"epoch_{epoch}.pt")
        if on_epoch_end is not None:
            on_epoch_end(epoch, model, history)
    if bar is not None:
        bar.close()
    history.wall_time = time.perf_counter() - start
    return history
