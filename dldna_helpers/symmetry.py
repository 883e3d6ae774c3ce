"""Symmetry between the hidden units of an MLP (section 5.1, zero and constant initialization).

Two hidden units with the same incoming weights, the same bias and the same outgoing weights
compute the same value for every input and receive the same gradient, so gradient descent
keeps them identical. These functions measure that and show its consequence:

- :func:`unit_spread` / :func:`unit_spreads`: the largest difference between the parameters
  of two units of a linear layer (0 when all its units are identical).
- :func:`hidden_activations` / :func:`activation_ranks`: what the hidden layers output for a
  batch, and the numerical rank of each (N, width) output matrix.
- :func:`collapse_to_one_unit`: the MLP with one unit per hidden layer that computes the same
  function as an MLP whose hidden units are identical.
"""
from __future__ import annotations

import torch
from torch import nn

from .models import MLP


def unit_spread(layer: nn.Linear, relative: bool = False) -> float:
    """max over units i and inputs j of |W_ij − W_0j| and |b_i − b_0|: 0 when all units are identical.

    ``relative=True`` divides by the largest |parameter| of the layer, so the value can be read
    against the machine epsilon of the dtype (an all-zero layer gives 0).
    """
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"unit_spread needs an nn.Linear layer, got {type(layer).__name__}")
    params = layer.weight.detach()
    if layer.bias is not None:
        params = torch.cat([params, layer.bias.detach()[:, None]], dim=1)
    spread = float((params - params[:1]).abs().max())
    if not relative:
        return spread
    scale = float(params.abs().max())
    return spread / scale if scale > 0 else 0.0


def unit_spreads(model: nn.Module, relative: bool = False) -> list[float]:
    """:func:`unit_spread` of every ``nn.Linear`` of ``model``, in forward order."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to measure")
    return [unit_spread(layer, relative) for layer in layers]


def _check_mlp(model: nn.Module) -> None:
    if not isinstance(model, MLP):
        raise TypeError(f"expected a dldna_helpers.models.MLP, got {type(model).__name__}")


@torch.no_grad()
def hidden_activations(model: MLP, x: torch.Tensor) -> list[torch.Tensor]:
    """The output (N, width) of every hidden layer's activation for the batch ``x``."""
    _check_mlp(model)
    outputs, h = [], x.flatten(1)
    for module in model.net:
        h = module(h)
        if not isinstance(module, nn.Linear):
            outputs.append(h)
    return outputs


def activation_ranks(model: MLP, x: torch.Tensor) -> list[int]:
    """Numerical rank of each hidden layer's (N, width) output for ``x``.

    Singular values below σ_max · max(N, width) · eps(float32) count as zero (the usual
    tolerance, with the precision the network computes in); an all-zero output has rank 0.
    """
    ranks = []
    for h in hidden_activations(model, x):
        s = torch.linalg.svdvals(h.to(torch.float64).cpu())
        tol = float(s[0]) * max(h.shape) * torch.finfo(torch.float32).eps
        ranks.append(int((s > tol).sum()) if float(s[0]) > 0 else 0)
    return ranks


@torch.no_grad()
def collapse_to_one_unit(model: MLP, rtol: float = 1e-5) -> MLP:
    """An MLP with one unit per hidden layer that computes the same outputs as ``model``.

    Valid only when the units of every hidden layer are identical (incoming weights and
    bias); otherwise a ValueError names the first layer whose units differ by more than
    ``rtol`` times its largest parameter (:func:`unit_spread` with ``relative=True``). Unit 0 stands for each hidden layer: the first layer
    keeps its row, a later layer receives ``width`` copies of one value, so its weight is the
    sum of that row, and the output layer's weight is the row sums of its matrix.
    """
    _check_mlp(model)
    if not rtol >= 0:
        raise ValueError(f"rtol must be >= 0, got {rtol!r}")
    linears = model.linear_layers()
    for index, layer in enumerate(linears[:-1]):
        spread = unit_spread(layer, relative=True)
        if spread > rtol:
            raise ValueError(f"hidden layer {index + 1} has distinct units (largest parameter difference "
                             f"{spread:.3g} of its largest parameter, allowed {rtol:g}); only a network whose "
                             "hidden units are identical collapses to one unit per layer")
    first = linears[0]
    small = MLP(first.in_features, hidden=(1,) * (len(linears) - 1), num_classes=linears[-1].out_features,
                activation=model.activation).to(device=first.weight.device, dtype=first.weight.dtype)
    for index, (big, one) in enumerate(zip(linears, small.linear_layers())):
        weight = big.weight.detach()
        if index == 0:
            one.weight.copy_(weight[:1])
        elif index < len(linears) - 1:
            one.weight.copy_(weight[:1].sum(dim=1, keepdim=True))
        else:
            one.weight.copy_(weight.sum(dim=1, keepdim=True))
        one.bias.copy_(big.bias.detach()[: one.out_features])
    for big, one in zip(model.net, small.net):
        if not isinstance(big, nn.Linear):
            one.load_state_dict(big.state_dict())  # PReLU slopes; other activations have no state
    return small
