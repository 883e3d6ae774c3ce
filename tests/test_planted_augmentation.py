"""``random_crop_flip`` against its definition: every output is a crop of the reflect-padded
image (the documented padding mode), possibly mirrored left-right; the row and column offsets
are independent and uniform on 0..2·padding; half the images are flipped.

The offsets are not read from the implementation: for each output the test searches every
(row offset, column offset, flip) of the reflect-padded input for the one that reproduces it
(inputs are random, so exactly one does). Checked by planting, once each, another padding
mode, one offset for both axes, an off-by-one in the offset range, a vertical flip and a
biased flip (issue 18, item 5)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from scipy import stats

from dldna_helpers.data import random_crop_flip

PAD, N, SIZE = 2, 3000, 8   # SIZE > 2·PAD + 1: no crop of a reflected border is a palindrome


@pytest.fixture(scope="module")
def recovered():
    """(x, out, dy, dx, flip) for N random 2-channel images: offsets found by exhaustive search."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(N, 2, SIZE, SIZE, generator=gen)
    out = random_crop_flip(x, torch.Generator().manual_seed(1), padding=PAD)
    padded = F.pad(x, (PAD,) * 4, mode="reflect")
    span = 2 * PAD + 1
    # all crops: (N, C, span, span, SIZE, SIZE) -> candidates[n, dy, dx, flip]
    crops = padded.unfold(2, SIZE, 1).unfold(3, SIZE, 1).permute(0, 2, 3, 1, 4, 5)
    candidates = torch.stack([crops, crops.flip(-1)], dim=3)               # (N, span, span, 2, C, H, W)
    match = (candidates == out.view(N, 1, 1, 1, 2, SIZE, SIZE)).flatten(4).all(-1)   # (N, span, span, 2)
    return x, out, match, span


def test_every_output_is_one_reflect_padded_crop(recovered):
    x, out, match, _ = recovered
    assert out.shape == x.shape and out.dtype == x.dtype
    counts = match.flatten(1).sum(1)
    assert int((counts == 0).sum()) == 0, (
        f"{int((counts == 0).sum())} of {N} outputs are no crop of the reflect-padded image "
        "(another padding mode, or a flip along the wrong axis?)")
    assert int((counts > 1).sum()) == 0   # random inputs: the crop that fits is unique


def _offsets(match):
    n, dy, dx, flip = match.nonzero(as_tuple=True)
    assert torch.equal(n, torch.arange(N))
    return dy, dx, flip


def test_offsets_are_uniform_on_the_whole_range(recovered):
    *_, match, span = recovered
    dy, dx, _ = _offsets(match)
    for name, d in (("row", dy), ("column", dx)):
        counts = torch.bincount(d, minlength=span).tolist()
        assert len(counts) == span and min(counts) > 0, f"{name} offsets {counts}: a value never occurs"
        p = stats.chisquare(counts).pvalue
        assert p > 1e-3, f"{name} offsets {counts} are not uniform on 0..{span - 1} (p={p:.1e})"


def test_row_and_column_offsets_are_independent(recovered):
    *_, match, span = recovered
    dy, dx, _ = _offsets(match)
    table = torch.zeros(span, span, dtype=torch.long)
    table.index_put_((dy, dx), torch.ones_like(dy), accumulate=True)
    p = stats.chi2_contingency(table.numpy()).pvalue
    assert p > 1e-3, f"row and column offsets are dependent (p={p:.1e}):\n{table}"
    same = float((dy == dx).float().mean())
    assert abs(same - 1 / span) < 0.03, f"dy == dx in {same:.1%} of images, expected {1 / span:.1%}"


def test_half_of_the_images_are_mirrored(recovered):
    *_, match, _ = recovered
    _, _, flip = _offsets(match)
    flipped = int(flip.sum())
    p = stats.binomtest(flipped, N, 0.5).pvalue
    assert p > 1e-3, f"{flipped} of {N} images flipped (p={p:.1e})"
