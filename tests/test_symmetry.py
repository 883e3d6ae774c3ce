"""dldna_helpers.symmetry and init.constant_: identical hidden units stay identical under
gradient descent, the network is then one unit per layer (ranks, an exact collapse), random
initialization breaks the symmetry; bad input is refused."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from dldna_helpers.init import constant_, fans, initialize
from dldna_helpers.models import MLP
from dldna_helpers.symmetry import (
    activation_ranks, collapse_to_one_unit, hidden_activations, unit_spread, unit_spreads,
)

HIDDEN = (12, 7)


def _data(n: int = 96, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 20, generator=g), torch.randint(0, 4, (n,), generator=g)


def _trained(how: str, activation: str, steps: int = 60) -> MLP:
    """An MLP 20→12→7→4 after ``steps`` of SGD with momentum on random data, biases zero at the start."""
    torch.manual_seed(0)
    model = MLP(20, HIDDEN, 4, activation=activation)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif p.dim() == 2:
                {"zero": lambda w: constant_(w, 0.0), "constant": constant_,
                 "random": lambda w: nn.init.normal_(w, 0, fans(w)[0] ** -0.5)}[how](p)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = _data()
    for step in range(steps):
        batch = slice(16 * (step % 6), 16 * (step % 6 + 1))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        opt.step()
    return model


def test_constant_fills_with_one_over_fan_in_or_the_given_value():
    w = torch.empty(5, 8)
    assert torch.equal(constant_(w), torch.full((5, 8), 1 / 8))
    assert torch.equal(constant_(w, -0.25), torch.full((5, 8), -0.25))
    conv = constant_(torch.empty(4, 3, 3, 3))
    assert torch.equal(conv, torch.full_like(conv, 1 / 27))
    with pytest.raises(ValueError, match="value"):
        constant_(w, float("nan"))


def test_unit_spread_counts_weights_and_biases():
    layer = nn.Linear(3, 4)
    with torch.no_grad():
        layer.weight.fill_(0.5)
        layer.bias.fill_(0.1)
    assert unit_spread(layer) == 0
    with torch.no_grad():
        layer.bias[2] += 0.25   # units differ only in their bias
    assert unit_spread(layer) == pytest.approx(0.25)
    with torch.no_grad():
        layer.weight[3, 1] -= 2.0
    assert unit_spread(layer) == pytest.approx(2.0)
    assert unit_spread(layer, relative=True) == pytest.approx(2.0 / 1.5)   # the largest |parameter| is |0.5 − 2|
    assert unit_spread(nn.Linear(3, 1)) == 0   # one unit: nothing to differ from
    zero = nn.Linear(3, 4)
    with torch.no_grad():
        zero.weight.zero_()
        zero.bias.zero_()
    assert unit_spread(zero, relative=True) == 0


@pytest.mark.parametrize("activation", ["tanh", "prelu"])
def test_constant_init_keeps_hidden_units_identical_and_random_init_breaks_them(activation):
    constant, random = _trained("constant", activation), _trained("random", activation)
    x, _ = _data(seed=1)
    *hidden, output = unit_spreads(constant, relative=True)
    # identical to machine precision after 60 steps (a width that is not a multiple of the
    # SIMD width can leave rounding differences of about one epsilon)
    assert max(hidden) <= 16 * torch.finfo(torch.float32).eps
    assert output > 1e-2                 # output units see different labels: they are not symmetric
    assert activation_ranks(constant, x) == [1, 1]
    assert all(s > 1e-1 for s in unit_spreads(random, relative=True))
    assert activation_ranks(random, x) == list(HIDDEN)


def test_zero_init_leaves_the_hidden_weights_at_zero_and_the_output_constant():
    model = _trained("zero", "tanh")
    linears = model.linear_layers()
    assert all(torch.count_nonzero(layer.weight) == 0 for layer in linears)   # no gradient ever reached them
    assert torch.count_nonzero(linears[-1].bias) > 0                          # only the output bias learned
    x, _ = _data(seed=1)
    logits = model(x)
    assert torch.equal(logits, logits[:1].expand_as(logits))
    assert activation_ranks(model, x) == [0, 0]


@pytest.mark.parametrize("activation", ["tanh", "prelu"])
def test_collapsed_network_computes_the_same_outputs(activation):
    model = _trained("constant", activation)
    if activation == "prelu":   # the slope has moved from its default, so copying it matters
        assert any(float(m.weight.detach()) != 0.25 for m in model.net if isinstance(m, nn.PReLU))
    small = collapse_to_one_unit(model)
    assert [layer.out_features for layer in small.linear_layers()] == [1, 1, 4]
    x, _ = _data(seed=2)
    with torch.no_grad():
        torch.testing.assert_close(small(x), model(x), rtol=1e-5, atol=1e-6)
    assert [h.shape[1] for h in hidden_activations(small, x)] == [1, 1]


def test_collapse_refuses_distinct_units_and_other_models():
    with pytest.raises(ValueError, match="hidden layer 1 has distinct units"):
        collapse_to_one_unit(_trained("random", "tanh", steps=1))
    with pytest.raises(TypeError, match="MLP"):
        collapse_to_one_unit(nn.Sequential(nn.Linear(3, 2)))
    with pytest.raises(TypeError, match="MLP"):
        activation_ranks(nn.Linear(3, 2), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="no nn.Linear"):
        unit_spreads(nn.Tanh())
    with pytest.raises(TypeError, match="nn.Linear"):
        unit_spread(nn.Conv2d(1, 1, 3))


def test_initialize_is_unchanged_by_the_new_initializer():
    # constant_ is deliberately not one of the page's six INITIALIZERS
    with pytest.raises(KeyError):
        initialize(MLP(), "constant")
