"""Complex parameters as ``torch.optim`` treats them: the real and imaginary parts are two coordinates."""
from __future__ import annotations

import torch


def real_view(t: torch.Tensor) -> torch.Tensor:
    """A complex tensor as a real one with a last axis (re, im) sharing its memory; a real one as is.

    Element-wise rules such as Adam's ``g²`` then square each part (``re²``, ``im²``) instead of
    the complex number (``re² − im² + 2i·re·im``), and in-place updates of the view update ``t``.
    """
    return torch.view_as_real(t) if t.is_complex() else t
