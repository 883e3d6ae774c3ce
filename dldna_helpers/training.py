"""Training loop of the chapter: per-epoch metrics, divergence detection, checkpoint cache.

``train`` records, per epoch, the train/test loss and accuracy and the mean global
gradient L2 norm; it stops at the first non-finite (or exploding) loss or non-finite
gradient and reports the run as diverged instead of printing ``nan``.

With ``cache=True`` it keeps a checkpoint per epoch and publishes the run in one step when it
ends (:mod:`.run_cache`); a later call *given the same things* loads the finished run instead
of training again, leaving model, optimizer, scheduler and random state exactly as the fresh
run did. The key is derived from the call itself — starting weights, model, optimizer and its
hyperparameters, loss, scheduler, clipping, hooks, the loaders' data and settings, epochs, the
code that runs — so a page writes no key by hand::

    torch.manual_seed(SEED)
    model = MLP(activation="relu")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train_loader, test_loader = fashion_mnist_loaders(profile.fmnist_train, None, 128, seed=SEED)
    history = train(model, optimizer, train_loader, test_loader, profile.pipeline_epochs, cache=True)
    checkpoints = load_checkpoints(history)     # [(0, state_dict), (1, ...), ...]

Change the learning rate, the seed, the activation, the data or the number of epochs and the
run is trained again; a cached run that does not fit the call is reported and recomputed.
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
    CacheCorruptError, CacheWarning, code_fingerprint, compute_fingerprint, config_key, run_dir,
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
    run_key: str | None = None   # the cached run's folder name (train(..., cache=True)); None if not cached

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
        for name in _NOT_STORED:   # how this object was obtained, not what the run produced
            del blob[name]
        return blob

    @classmethod
    def from_json(cls, blob: Mapping[str, Any]) -> "History":
        """The inverse of :meth:`to_json`; a field missing from ``blob`` is an error, not an empty list."""
        if not isinstance(blob, Mapping):
            raise ValueError(f"a history record is a JSON object, got {type(blob).__name__}")
        names = [n for n in cls.__dataclass_fields__ if n not in _NOT_STORED]
        missing = [n for n in names if n not in blob]
        if missing:
            raise ValueError(f"history record lacks the field(s) {', '.join(missing)}")
        return cls(**{n: blob[n] for n in names})


_NOT_STORED = ("from_cache", "run_key")


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
    if per_sample and hasattr(loss_fn, "reduction"):
        # a torch loss module: the same loss per sample; other callables give correctness only
        sample_loss_fn = copy.copy(loss_fn)
        sample_loss_fn.reduction = "none"
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    losses, hits = [], []
    # the whole test set is checked every epoch: an in-memory loader's data is checked once instead
    known_finite = getattr(data, "inputs_known_finite", None)
    check = known_finite is None or not known_finite()
    for i, (xb, yb) in enumerate(_batches(data)):
        if check:
            check_finite_inputs(xb, f"evaluation batch {i}")
        xb, yb = xb.to(device), yb.to(device)
        out = model(xb)
        total_loss += float(loss_fn(out, yb)) * len(yb)
        hit = out.argmax(1) == yb
        correct += int(hit.sum())
        count += len(yb)
        if per_sample:
            if sample_loss_fn is not None:
                losses.append(sample_loss_fn(out, yb).float().cpu())
            hits.append(hit.cpu())
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluation data is empty: no batches were produced")
    samples = None
    if per_sample:
        samples = (torch.cat(losses).numpy() if losses else None, torch.cat(hits).numpy().astype(np.uint8))
    return total_loss / count, correct / count, samples


def _pack_samples(losses: np.ndarray | None, correct: np.ndarray) -> tuple[str, str | None]:
    """The per-sample results as two JSON-friendly strings (see :class:`History`)."""
    bits = f"{len(correct):08x}" + np.packbits(correct.astype(np.uint8)).tobytes().hex()
    if losses is None:
        return bits, None
    return bits, base64.b64encode(losses.astype("<f4").tobytes()).decode("ascii")


def global_grad_norm(parameters: Iterable[nn.Parameter]) -> float:
    """L2 norm of all gradients taken together (the norm of their concatenation)."""
    norms = [torch.linalg.vector_norm(p.grad.detach()) for p in parameters if p.grad is not None]
    if not norms:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack(norms)))


# ------------------------------------------------------------------ reading cached runs
def _cached_run(source: Any) -> tuple[Path, dict[str, Any]]:
    """The folder and verified manifest of a cached run given by its history, key or ``cache_config``."""
    folder = run_cache.entry_folder(source)
    if not run_cache.present(folder):
        raise FileNotFoundError(f"no cached run in {folder}; run train(..., cache=True) first")
    try:
        manifest = run_cache.read_manifest(folder)
        if isinstance(source, Mapping) and manifest.get("config") != run_cache._float_safe(
                run_cache.canonical(dict(source))):
            raise CacheCorruptError(f"{folder} was not made with this cache_config")
        run_cache.verify_all(folder, manifest)
        run_cache.epoch_files(manifest)
    except CacheCorruptError as err:
        raise CacheCorruptError(f"{err}. Clear it with `{run_cache.fix_command(folder)}` and run "
                                "train(...) again") from err
    return folder, manifest


def load_checkpoints(run: "History | Mapping[str, Any] | str") -> list[tuple[int, dict[str, torch.Tensor]]]:
    """The per-epoch state dicts of a finished cached run, ordered by epoch (``0`` = the start).

    ``run`` is the :class:`History` that ``train(..., cache=True)`` returned (or its ``run_key``),
    or, as pages did before keys were derived, the ``cache_config`` the run was trained with.
    Refuses a run that is not finished or whose files are damaged, naming the folder and the
    command that clears it."""
    folder, manifest = _cached_run(run)
    try:
        return [(epoch, run_cache.load_tensor_file(folder, manifest, name))
                for epoch, name in run_cache.epoch_files(manifest)]
    except CacheCorruptError as err:
        raise CacheCorruptError(f"{err}. Clear it with `{run_cache.fix_command(folder)}` and run "
                                "train(...) again") from err


def load_record(run: "History | Mapping[str, Any] | str", name: str) -> Any:
    """A JSON record stored with a finished run through ``train(..., extra_records=...)`` (``run``
    as in :func:`load_checkpoints`)."""
    folder, manifest = _cached_run(run)
    return run_cache.load_json_file(folder, manifest, f"{name}.json")


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
    cache: bool = False,
    cache_config: Mapping[str, Any] | None = None,
    extra_records: Callable[[History], Mapping[str, Any]] | None = None,
    progress: bool | None = None,
    divergence_loss: float = DIVERGENCE_LOSS,
) -> History:
    """Train ``model`` for ``epochs`` and return its :class:`History`.

    - Stops at the first mini-batch whose loss is nan/inf or above ``divergence_loss`` or whose
      gradient is not finite, or at the first epoch whose test loss is not finite;
      ``History.diverged``, ``diverged_step`` and ``diverged_epoch`` say where. A diverged run
      returns (and caches) the model and optimizer as they were when it stopped (before the step
      with the bad loss or gradient); its history holds the epochs completed before.
    - Inputs with nan/inf raise :class:`DataProblemError` (a data problem, not a divergence).
    - Optimizers that estimate curvature (Sophia) expose ``hessian_due()`` and
      ``update_hessian(model, x, y, loss_fn)``; the loop calls them before ``step()``.
    - ``scheduler.step()`` runs once per epoch.
    - ``cache=True`` keeps the run (see the module's doc): checkpoints ``epoch_0.pt`` …,
      optimizer and scheduler state, history, the records returned by ``extra_records(history)``
      (name → JSON value, read back with :func:`load_record`) and the final random state, published
      together when the run ends. The key is derived from everything this call is given that
      decides the result (:func:`run_cache.describe_run`); ``cache_config`` (JSON values, tensors,
      arrays) is extra key material and also turns caching on, as pages wrote it before. A later
      identical call loads the run (``history.from_cache``) after checking it: a cached run made by
      another call, with other starting weights, or damaged is reported (:class:`CacheWarning`)
      and recomputed. A cache folder that cannot be written gives a warning and the run is
      returned uncached.
    """
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    for name, value in (("clip_grad_norm", clip_grad_norm), ("clip_grad_value", clip_grad_value)):
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be positive or None, got {value!r}")
    if not isinstance(cache, bool):
        raise TypeError(f"cache must be True or False, got {cache!r}")
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = device or next(model.parameters()).device
    model.to(device)

    session = None
    if cache or cache_config is not None:
        session = run_cache.open_run(
            model=model, optimizer=optimizer, scheduler=scheduler, train_loader=train_loader,
            test_loader=test_loader, epochs=epochs, device=device, cache_config=cache_config, history_type=History,
            settings={"loss_fn": loss_fn, "clip_grad_norm": clip_grad_norm, "clip_grad_value": clip_grad_value,
                      "divergence_loss": divergence_loss, "after_backward": after_backward,
                      "on_epoch_end": on_epoch_end, "extra_records": extra_records})
        if session.history is not None:
            return session.history
    try:
        history = _run(model, optimizer, train_loader, test_loader, epochs, loss_fn, device, scheduler,
                       clip_grad_norm, clip_grad_value, after_backward, on_epoch_end, progress,
                       divergence_loss, session)
        if session is not None and session.writer is not None:
            session.record(history, extra_records(history) if extra_records is not None else None)
    finally:
        if session is not None:
            session.close()   # interrupted or failed: nothing half-written is left behind
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
            norm = global_grad_norm(params)
            if not math.isfinite(norm):   # e.g. a sign-based step would freeze on it: stop here
                history.diverged, history.diverged_step, history.diverged_epoch = True, step, epoch
                history.step_loss.append(value)
                break
            norm_sum += norm
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
