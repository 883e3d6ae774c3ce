"""Hyperparameter checks shared by the optimizers: each error names the bad value and the allowed range."""
from __future__ import annotations


def check_range(name: str, value: float, low: float, high: float | None = None, *,
                include_high: bool = False) -> None:
    """Require ``low <= value < high`` (``<= high`` with ``include_high``; no upper bound if ``high`` is None)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    too_high = high is not None and (value > high if include_high else value >= high)
    if not value >= low or too_high:  # `not >=` also rejects nan
        upper = "" if high is None else (f" and <= {high}" if include_high else f" and < {high}")
        raise ValueError(f"{name}={value!r} is invalid: allowed values are >= {low}{upper}")


def check_betas(betas: tuple[float, float]) -> None:
    """Both decay rates of an exponential moving average must lie in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas, start=1):
        check_range(f"beta{i}", beta, 0.0, 1.0)
