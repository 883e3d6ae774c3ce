"""Weight initializers of section 5.1 and the statistics the section compares them with.

- :data:`INITIALIZERS`: key → in-place initializer of one weight tensor. Each one is the
  formula of its paper written out (no call into ``torch.nn.init``), so the page can show it
  and the tests can check it against ``torch.nn.init`` and the formula.
- :func:`xavier_uniform_`: Glorot & Bengio's own (uniform) form of :func:`xavier_normal_`.
- :func:`lsuv_`: Mishkin & Matas' data-dependent initialization (orthogonal, then each layer
  rescaled on a batch until its output has unit variance).
- :func:`constant_`: every entry the same value (zero, or 1/fan_in by default): the
  symmetric start that random initialization exists to avoid (the page's counter-example).
- :func:`initialize`: apply one of them to every weight with two or more dimensions of a
  model and zero its biases; 1-D parameters that are not biases (PReLU slopes,
  normalization scales) keep their defaults.
- :func:`matrix_statistics` / :func:`weight_statistics`: condition number, spectral norm
  and effective rank (Roy & Vetterli's entropy form) of the 2-D weight matrices only.
- :func:`layer_signals`: per linear layer, its output z (pre-activation), the output of the
  activation that follows it, and the gradient δ = ∂L/∂z, for one batch (the values, for
  histograms); :func:`activation_gradient_stats`: their standard deviations.
- :func:`participation_ratio`: in how many directions a batch of layer inputs really varies
  (what decides how far one network's layer can stray from the variance formula's expectation).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

Initializer = Callable[[torch.Tensor], torch.Tensor]


def fans(weight: torch.Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): inputs and outputs per unit."""
    if weight.dim() < 2:
        raise ValueError(f"fan-in/fan-out need a weight with >= 2 dims, got shape {tuple(weight.shape)}")
    receptive = math.prod(weight.shape[2:])  # 1 for a linear layer, k*k for a conv kernel
    return weight.shape[1] * receptive, weight.shape[0] * receptive


@torch.no_grad()
def _normal_(weight: torch.Tensor, std: float) -> torch.Tensor:
    return weight.normal_(0.0, std)


def lecun_normal_(weight: torch.Tensor) -> torch.Tensor:
    """LeCun et al. (1998): N(0, 1/fan_in), keeps the forward variance of a linear unit."""
    fan_in, _ = fans(weight)
    return _normal_(weight, math.sqrt(1.0 / fan_in))


def xavier_normal_(weight: torch.Tensor) -> torch.Tensor:
    """Glorot & Bengio (2010): N(0, 2/(fan_in + fan_out)), a compromise of forward and backward."""
    fan_in, fan_out = fans(weight)
    return _normal_(weight, math.sqrt(2.0 / (fan_in + fan_out)))


def xavier_uniform_(weight: torch.Tensor) -> torch.Tensor:
    """Glorot & Bengio (2010) as they wrote it: U(−b, b) with b = √(6/(fan_in + fan_out)), whose
    variance b²/3 is the same 2/(fan_in + fan_out) as :func:`xavier_normal_`."""
    fan_in, fan_out = fans(weight)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return weight.uniform_(-bound, bound)


def kaiming_normal_(weight: torch.Tensor, negative_slope: float = 0.0) -> torch.Tensor:
    """He et al. (2015): N(0, 2/((1+a²) fan_in)); a = 0 is ReLU, a > 0 leaky ReLU/PReLU."""
    if not math.isfinite(negative_slope) or negative_slope < 0:
        raise ValueError(f"negative_slope must be a finite number >= 0, got {negative_slope!r}")
    fan_in, _ = fans(weight)
    return _normal_(weight, math.sqrt(2.0 / ((1.0 + negative_slope**2) * fan_in)))


@torch.no_grad()
def orthogonal_(weight: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """Saxe et al. (2014): a random (semi-)orthogonal matrix times ``gain``.

    The weight is viewed as a (rows, cols) matrix; its rows (or columns, whichever are
    fewer) are orthonormal, so every singular value equals ``gain``.
    """
    if not math.isfinite(gain) or gain <= 0:
        raise ValueError(f"gain must be a finite positive number, got {gain!r}")
    if weight.dim() < 2:
        raise ValueError(f"orthogonal init needs a weight with >= 2 dims, got shape {tuple(weight.shape)}")
    rows = weight.shape[0]
    cols = weight.numel() // rows
    tall = torch.randn(max(rows, cols), min(rows, cols), dtype=torch.float64)
    q, r = torch.linalg.qr(tall)
    # QR is unique only up to column signs; fixing them by diag(R) makes Q uniform (Haar).
    q = q * torch.where(torch.diagonal(r) < 0, -1.0, 1.0)
    if rows < cols:
        q = q.T
    weight.copy_((gain * q).reshape(weight.shape).to(weight.dtype))
    return weight


RELU_GAIN = math.sqrt(2.0)


@torch.no_grad()
def constant_(weight: torch.Tensor, value: float | None = None) -> torch.Tensor:
    """Every entry ``value``; ``None`` means 1/fan_in, so each unit starts as the mean of its inputs.

    Not a method to use: all units of a layer start identical and, trained by gradient
    descent, stay identical (``dldna_helpers.symmetry``). ``value=0`` is zero initialization.
    """
    if value is None:
        value = 1.0 / fans(weight)[0]
    if not math.isfinite(value):
        raise ValueError(f"value must be a finite number or None (1/fan_in), got {value!r}")
    return weight.fill_(value)


def scaled_orthogonal_(weight: torch.Tensor, gain: float = RELU_GAIN) -> torch.Tensor:
    """Orthogonal × gain, with gain √2 for ReLU-like activations (the variance factor 2 of He et al.).

    The gain alone sets the scale: each output of a (semi-)orthogonal matrix with orthonormal
    rows projects the input on a unit vector, so it keeps the per-unit second moment of an
    isotropic input; multiplying by a further sqrt(2/fan_in) would shrink the signal by that
    factor again in every layer.
    """
    return orthogonal_(weight, gain)


@torch.no_grad()
def l_momentum_negative_example_(weight: torch.Tensor, momentum: float = 0.9) -> torch.Tensor:
    """NEGATIVE EXAMPLE, not a published method we could verify ("L-Momentum", attributed to 2024).

    Draws U(-√(6/fan_in), √(6/fan_in)) and then rescales the whole tensor to variance
    ``momentum**2``. The rescaling undoes the fan-in scaling: the weight std is
    ``momentum`` (0.9) for every layer, whatever its width, so the forward signal grows by
    roughly 0.9·√fan_in per layer. Kept only to show that the variance analysis predicts
    the divergence.
    """
    if not 0 < momentum < 1:
        raise ValueError(f"momentum must be in (0, 1), got {momentum!r}")
    fan_in, _ = fans(weight)
    bound = math.sqrt(6.0 / fan_in)
    weight.uniform_(-bound, bound)
    return weight.mul_(math.sqrt(momentum**2 / float(weight.var())))


INITIALIZERS: dict[str, Initializer] = {
    "lecun": lecun_normal_,
    "xavier_normal": xavier_normal_,
    "kaiming_normal": kaiming_normal_,
    "orthogonal": orthogonal_,
    "scaled_orthogonal": scaled_orthogonal_,
    "l-momentum": l_momentum_negative_example_,  # negative example: diverges by design
}

NEGATIVE_EXAMPLES = frozenset({"l-momentum"})


def get_initializer(key: str) -> Initializer:
    """The initializer called ``key``; an unknown key raises an error listing the known ones."""
    if key not in INITIALIZERS:
        raise KeyError(f"unknown initializer {key!r}; known: {', '.join(INITIALIZERS)}")
    return INITIALIZERS[key]


@torch.no_grad()
def initialize(model: nn.Module, key: str | Initializer) -> nn.Module:
    """Initialize every layer weight with >= 2 dims of ``model`` (parameters whose name ends in
    ``weight``, e.g. ``weight``, ``in_proj_weight``) with ``INITIALIZERS[key]`` (or with ``key``
    itself when it is a function that fills a tensor in place) and zero every bias (names ending
    in ``bias``). Everything else keeps its value: 1-D weights (PReLU slopes, norm scales) and
    parameters that are not layer weights (class tokens, position embeddings). Returns the same
    model."""
    init = key if callable(key) else get_initializer(key)
    for name, param in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if leaf.endswith("bias"):
            param.zero_()
        elif leaf.endswith("weight") and param.dim() >= 2:
            init(param)
    return model


@torch.no_grad()
def lsuv_(model: nn.Module, x: torch.Tensor, *, tol: float = 0.1, max_iter: int = 10,
          start: Initializer | None = None) -> list[dict[str, float]]:
    """Mishkin & Matas (2016), layer-sequential unit-variance (LSUV) initialization, in place.

    Every ``nn.Linear`` weight starts orthogonal (gain 1) with a zero bias — or, with ``start``,
    is filled by that initializer instead (e.g. :func:`kaiming_normal_`: the same data-set scale
    on a Gaussian spectrum, which separates LSUV's two ingredients); then, from the input
    layer on, the batch ``x`` is passed through the model and each layer's weight is divided by
    the std of that layer's output z (before the activation) until |Var(z) − 1| < ``tol`` or
    ``max_iter`` rescalings (the paper's Tol_var = 0.1, T_max = 10). With zero biases one
    rescaling is exact; the loop matters for layers such as batch normalization downstream.
    Returns, per layer, ``{"std_before": …, "std_after": …, "iterations": …}``.
    """
    if not (0 < tol < 1):
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive int, got {max_iter!r}")
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to initialize")
    if x.shape[0] < 2:
        raise ValueError(f"LSUV needs a batch of at least 2 samples to measure a variance, got {x.shape[0]}")
    if start is not None and not callable(start):
        raise TypeError(f"start must be an initializer (a function filling a weight in place), got {start!r}")
    for layer in layers:
        (start or orthogonal_)(layer.weight)
        if layer.bias is not None:
            layer.bias.zero_()
    report = []
    for layer in layers:
        seen: dict[str, torch.Tensor] = {}
        handle = layer.register_forward_hook(lambda _m, _i, out: seen.__setitem__("z", out))
        try:
            model(x)
            before = std = float(seen["z"].std())
            iterations = 0
            while abs(std**2 - 1.0) >= tol and iterations < max_iter:
                if not (math.isfinite(std) and std > 0):
                    raise ValueError(f"LSUV: a layer's output has std {std}; the batch cannot set its scale")
                layer.weight.div_(std)
                iterations += 1
                model(x)
                std = float(seen["z"].std())
        finally:
            handle.remove()
        report.append({"std_before": before, "std_after": std, "iterations": iterations})
    return report


# ------------------------------------------------------------------ weight statistics
def _svdvals(matrix: torch.Tensor) -> torch.Tensor:
    return torch.linalg.svdvals(matrix.detach().to(torch.float64).cpu())


def effective_rank(singular_values: torch.Tensor) -> float:
    """Roy & Vetterli (2007): exp of the Shannon entropy of p_i = σ_i / Σ_j σ_j (0·log 0 = 0)."""
    s = singular_values.to(torch.float64)
    total = s.sum()
    if not torch.isfinite(total) or total <= 0:
        return math.nan
    p = s / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def matrix_statistics(matrix: torch.Tensor) -> dict[str, float]:
    """Condition number σ_max/σ_min, spectral norm σ_max, effective rank and its ratio to
    min(rows, cols) of one 2-D matrix. A matrix with non-finite entries gives nan for all;
    a singular one has condition number inf."""
    if matrix.dim() != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {tuple(matrix.shape)}")
    full_rank = min(matrix.shape)
    if not torch.isfinite(matrix).all():
        return {"condition_number": math.nan, "spectral_norm": math.nan,
                "effective_rank": math.nan, "effective_rank_ratio": math.nan}
    s = _svdvals(matrix)
    s_max, s_min = float(s[0]), float(s[-1])
    erank = effective_rank(s)
    return {
        "condition_number": s_max / s_min if s_min > 0 else math.inf,
        "spectral_norm": s_max,
        "effective_rank": erank,
        "effective_rank_ratio": erank / full_rank,
    }


STAT_NAMES = ("condition_number", "spectral_norm", "effective_rank", "effective_rank_ratio")


def weight_statistics(model: nn.Module) -> dict:
    """Means of :func:`matrix_statistics` over the model's 2-D weight matrices.

    Only parameters with exactly two dimensions count (linear weights): biases, PReLU
    slopes and other 1-D parameters are excluded, and so are conv kernels. A matrix with a
    non-finite statistic is left out of that mean and listed under ``"non_finite"``
    (name → statistics), so one blown-up layer cannot turn every mean into nan or inf.
    """
    per_matrix = {name: matrix_statistics(p) for name, p in model.named_parameters() if p.dim() == 2}
    if not per_matrix:
        raise ValueError(f"{type(model).__name__} has no 2-D weight matrix to measure")
    result: dict = {"n_matrices": len(per_matrix), "per_matrix": per_matrix}
    non_finite: dict[str, dict[str, float]] = {}
    for stat in STAT_NAMES:
        finite = []
        for name, stats in per_matrix.items():
            if math.isfinite(stats[stat]):
                finite.append(stats[stat])
            else:
                non_finite[name] = stats
        result[stat] = sum(finite) / len(finite) if finite else math.nan
    result["non_finite"] = non_finite
    return result


# ------------------------------------------------------------------ signal propagation
ACTIVATION_MODULES = (nn.PReLU, nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU)


def layer_signals(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module | None = None
) -> dict[str, list]:
    """The forward and backward signals of one batch, layer by layer, at the current weights.

    For every ``nn.Linear`` l (in forward order), with z_l its output (the pre-activation):
    ``"z"`` holds z_l, ``"delta"`` the gradient δ_l = ∂L/∂z_l, ``"fan_in"``/``"fan_out"`` its
    sizes, ``"layer"`` its name; ``"h"`` holds the outputs of the activation modules
    (:data:`ACTIVATION_MODULES`) in forward order — in the chapter's MLPs, h_l = f(z_l) for every
    hidden layer. All tensors are detached copies. L is ``loss_fn`` (mean cross-entropy by
    default), so δ carries a 1/batch factor. Parameters and their ``.grad`` are left as they were.
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to measure")
    outputs: dict[str, torch.Tensor] = {}
    activations: list[torch.Tensor] = []

    def keep(name: str):
        def hook(_module: nn.Module, _inputs, output: torch.Tensor) -> None:
            output.retain_grad()  # z_l is not a leaf: ask autograd to keep ∂L/∂z_l
            outputs[name] = output
        return hook

    saved_grads = {p: p.grad for p in model.parameters()}
    handles = [m.register_forward_hook(keep(name)) for name, m in layers]
    handles += [m.register_forward_hook(lambda _m, _i, out: activations.append(out.detach().clone()))
                for m in model.modules() if isinstance(m, ACTIVATION_MODULES)]
    try:
        for p in model.parameters():
            p.grad = None
        with torch.enable_grad():
            loss = loss_fn(model(x), y)
            loss.backward()
        return {
            "layer": [name for name, _ in layers],
            "fan_in": [m.in_features for _, m in layers],
            "fan_out": [m.out_features for _, m in layers],
            "z": [outputs[name].detach().clone() for name, _ in layers],
            "delta": [outputs[name].grad.detach().clone() if outputs[name].grad is not None else None
                      for name, _ in layers],
            "h": activations,
            "weight_grad": [m.weight.grad.detach().clone() if m.weight.grad is not None else None
                            for _, m in layers],
        }
    finally:
        for h in handles:
            h.remove()
        for p, g in saved_grads.items():
            p.grad = g


def activation_gradient_stats(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module | None = None
) -> dict[str, list]:
    """Forward and backward signal sizes per linear layer for one batch (:func:`layer_signals`).

    For every ``nn.Linear`` l (in forward order), with z_l its output (the pre-activation):

    - ``activation_std``: std of z_l over the batch and units (forward signal);
    - ``output_grad_std``: std of ∂L/∂z_l (the backpropagated signal δ_l);
    - ``weight_grad_std``: std of ∂L/∂W_l.

    L is ``loss_fn`` (mean cross-entropy by default), so gradients carry a 1/batch factor;
    compare layers and methods, not absolute values. The model's parameters and ``.grad``
    fields are left as they were.
    """
    signals = layer_signals(model, x, y, loss_fn)

    def std(t: torch.Tensor | None) -> float:
        return float(t.std()) if t is not None else math.nan

    return {
        "layer": signals["layer"], "fan_in": signals["fan_in"], "fan_out": signals["fan_out"],
        "activation_std": [std(z) for z in signals["z"]],
        "output_grad_std": [std(d) for d in signals["delta"]],
        "weight_grad_std": [std(g) for g in signals["weight_grad"]],
    }


def participation_ratio(h: torch.Tensor) -> float:
    """(tr C)² / tr(C²) of the second-moment matrix C = hᵀh/N of a batch ``h`` (N, features).

    Between 1 (every sample along one direction) and the number of features (isotropic input):
    the number of directions the inputs of a layer effectively spread over. For a layer with
    ``n_out`` units and independent Gaussian rows, the mean over units of Var(z_i) = w_iᵀ C w_i
    deviates from its expectation by a relative standard deviation √(2/(n_out · ratio)).
    """
    if h.dim() < 2 or h.shape[0] < 1:
        raise ValueError(f"expected a batch of shape (N, features...), got {tuple(h.shape)}")
    s2 = torch.linalg.svdvals(h.detach().flatten(1).to(torch.float64).cpu()) ** 2
    total = float(s2.sum())
    if not (math.isfinite(total) and total > 0):
        raise ValueError("the batch is all zeros (or not finite): it spreads over no direction")
    return total**2 / float((s2**2).sum())
