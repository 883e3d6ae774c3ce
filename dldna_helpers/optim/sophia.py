"""Sophia (Liu et al. 2023): momentum divided by a clipped diagonal-Hessian estimate.

The training loop of :mod:`dldna_helpers.training` calls ``hessian_due()`` before every step and,
when it is True, ``update_hessian(model, inputs, targets, loss_fn)``: the estimate is refreshed
every ``k`` steps, which keeps its cost to a small fraction of training.

Its own diagnostic, as the official implementation monitors it (``train/win_rate``, the share of
coordinates whose step is *not* clipped): ``clip_fractions`` holds, for every ``step()``, the
share of coordinates whose ratio ``m / max(rho·h, eps)`` reached the clip — where Sophia took
the sign step ``lr·sign(m)`` instead of a curvature-scaled one. Near 1 it is sign momentum, not a
second-order method; the authors tune ``rho`` so that 10–50% of coordinates are not clipped.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch
from torch import nn
from torch.nn import functional as F

from ._checks import check_betas, check_flag, check_grads, check_lr, check_range
from ._closure import evaluate_closure

ESTIMATORS = ("gnb", "hutchinson")


class Sophia(torch.optim.Optimizer):
    """``m ← β1·m + (1 − β1)·g``; every ``k`` steps ``h ← β2·h + (1 − β2)·ĥ``;
    ``θ ← θ − lr·λ·θ − lr·clip(m / max(rho·h, eps), −1, 1)``.

    ``rho`` is the paper's γ. ``ĥ`` is a diagonal-Hessian estimate from one mini-batch:

    - ``"gnb"`` (Gauss–Newton–Bartlett, cross-entropy only): labels ``ŷ`` are sampled from the
      model's own softmax, ``ĝ = ∇ mean CE(f(x), ŷ)``, ``ĥ = B·ĝ⊙ĝ`` (B = batch size);
    - ``"hutchinson"``: ``ĥ = u⊙(H·u)`` with a Rademacher vector ``u`` and the Hessian of ``loss_fn``.

    Where ``h`` is small or negative the ratio hits the clip and the step is ``lr·sign(m)``
    (sign momentum); where the curvature is large the step is Newton-like, ``lr·m/(rho·h)``.

    ``bias_correction=True`` divides ``h`` by ``1 − β2ⁿ`` after ``n`` estimates, as Adam does for its
    moving averages: ``h`` starting at 0 is then not too small by that factor during the first
    ``~1/(1 − β2)`` estimates (the paper's ``h`` starts at 0 and its long runs warm the learning rate
    up meanwhile; a run of a few hundred steps with ``k = 10`` never leaves that start).

    ``maximize=True`` minimizes ``−loss``: the step uses ``−g`` and the estimate ``−ĥ``. Sparse
    gradients and complex parameters are refused.
    """

    def __init__(self, params: Iterable, lr: float = 1e-4, betas: tuple[float, float] = (0.965, 0.99),
                 rho: float = 0.04, weight_decay: float = 1e-1, eps: float = 1e-12, k: int = 10,
                 estimator: str = "gnb", *, bias_correction: bool = False, maximize: bool = False) -> None:
        lr = check_lr(lr)
        check_betas(betas)
        check_range("rho", rho, 0.0)
        check_range("weight_decay", weight_decay, 0.0)
        if not eps > 0:
            raise ValueError(f"eps={eps!r} is invalid: allowed values are > 0 (it bounds the denominator)")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k={k!r} is invalid: the Hessian refresh interval must be an int >= 1")
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator={estimator!r} is invalid; allowed: {', '.join(ESTIMATORS)}")
        check_flag("bias_correction", bias_correction)
        check_flag("maximize", maximize)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), rho=rho, weight_decay=weight_decay, eps=eps,
                                      bias_correction=bias_correction, maximize=maximize))
        self.k, self.estimator = k, estimator
        # Optimizer-wide counters, kept in state_dict(): calls of step() (the refresh schedule; a
        # parameter's own count would stall while it gets no gradient) and estimates taken.
        self.steps = 0
        self.hessian_updates = 0
        # the diagnostic: per step(), the share of coordinates whose step was clipped
        self.clip_fractions: list[float] = []

    _EXTRA = ("k", "estimator", "steps", "hessian_updates", "clip_fractions")

    def __getstate__(self) -> dict[str, Any]:
        """``torch.optim.Optimizer`` pickles only defaults, state and groups; Sophia's schedule,
        counters and diagnostic travel too (a run in a worker process returns its optimizer)."""
        return {**super().__getstate__(), **{name: getattr(self, name) for name in self._EXTRA}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        extra = {name: state.pop(name) for name in self._EXTRA if name in state}
        super().__setstate__(state)
        self.__dict__.update(extra)

    def _params(self) -> list[torch.Tensor]:
        return [p for group in self.param_groups for p in group["params"] if p.requires_grad]

    def _state(self, p: torch.Tensor) -> dict[str, Any]:
        state = self.state[p]
        if not state:
            state["exp_avg"] = torch.zeros_like(p)
            state["hessian"] = torch.zeros_like(p)
            state["hessian_steps"] = 0        # estimates this parameter received (for bias_correction)
        return state

    def hessian_due(self) -> bool:
        """True before steps 0, k, 2k, … of this optimizer: the loop should call :meth:`update_hessian` now."""
        return self.steps % self.k == 0 and bool(self._params())

    def state_dict(self) -> dict[str, Any]:
        """``torch.optim``'s state dict plus the two counters, so a resumed run keeps the schedule, and
        the clip fractions recorded so far."""
        return {**super().state_dict(), "steps": self.steps, "hessian_updates": self.hessian_updates,
                "clip_fractions": list(self.clip_fractions)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if "steps" not in state_dict:
            raise ValueError("this Sophia state dict has no 'steps' counter (saved by an older version or "
                             "by another optimizer): the Hessian refresh schedule cannot be restored")
        super().load_state_dict(state_dict)
        self.steps, self.hessian_updates = int(state_dict["steps"]), int(state_dict.get("hessian_updates", 0))
        self.clip_fractions = [float(f) for f in state_dict.get("clip_fractions", [])]

    def update_hessian(self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                       loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> None:
        """Refresh the EMA ``h`` from one estimate on this mini-batch; leaves ``p.grad`` untouched.

        ``targets`` and ``loss_fn`` are used by Hutchinson's estimator; GNB samples its own labels.
        The extra forward pass runs in the model's current mode, so in training mode it also
        updates BatchNorm running statistics (once every ``k`` steps).
        """
        check_grads(self, sparse=False, complex=False)
        params = self._params()
        with torch.enable_grad():
            outputs = model(inputs)
            if self.estimator == "gnb":
                sampled = torch.distributions.Categorical(logits=outputs.detach()).sample()
                grads = torch.autograd.grad(F.cross_entropy(outputs, sampled), params, allow_unused=True)
                estimates = [None if g is None else len(inputs) * g * g for g in grads]
            else:
                loss = (loss_fn or nn.CrossEntropyLoss())(outputs, targets)
                grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
                used = [(p, g) for p, g in zip(params, grads) if g is not None]
                u = [torch.randint_like(p, 2) * 2 - 1 for p, _ in used]          # Rademacher ±1
                hvp = torch.autograd.grad([g for _, g in used], [p for p, _ in used], grad_outputs=u,
                                          allow_unused=True)
                by_param = {p: (ui * hu if hu is not None else torch.zeros_like(p))
                            for (p, _), ui, hu in zip(used, u, hvp)}
                estimates = [by_param.get(p) for p in params]
        group_of = {p: group for group in self.param_groups for p in group["params"]}
        with torch.no_grad():
            for p, h_hat in zip(params, estimates):
                if h_hat is not None:
                    group = group_of[p]
                    h_hat = -h_hat if group["maximize"] else h_hat                # curvature of −loss
                    state = self._state(p)
                    state["hessian"].lerp_(h_hat.detach(), 1 - group["betas"][1])  # h ← β2·h + (1−β2)·ĥ
                    state["hessian_steps"] = state.get("hessian_steps", 0) + 1
        self.hessian_updates += 1

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = evaluate_closure(closure)
        check_grads(self, sparse=False, complex=False)
        self.steps += 1
        clipped, total = None, 0
        for group in self.param_groups:
            lr, (beta1, beta2), rho = group["lr"], group["betas"], group["rho"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._state(p)
                m, h = state["exp_avg"], state["hessian"]
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    p.mul_(1 - lr * group["weight_decay"])            # decoupled weight decay
                m.lerp_(g, 1 - beta1)
                scale = rho
                n = state.get("hessian_steps", 0)
                if group.get("bias_correction", False) and n > 0:
                    scale = rho / (1 - beta2 ** n)   # h / (1 − β2ⁿ)
                ratio = m / (scale * h).clamp_(min=group["eps"])
                hit = (ratio.abs() >= 1).sum()                     # coordinates at the clip: sign steps
                clipped = hit if clipped is None else clipped + hit
                total += ratio.numel()
                # the clip turns an inf momentum into a finite sign step (and h = inf into 0), which
                # would hide the divergence: m·0 + h·0 is nan exactly where either is not finite
                p.add_(ratio.clamp_(-1.0, 1.0).add_(m.mul(0.0)).add_(h.mul(0.0)), alpha=-lr)
        if total:
            self.clip_fractions.append(float(clipped) / total)
        return loss
