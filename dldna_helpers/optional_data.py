"""Data a page can do without: 5.2's CIFAR-100 section.

The loaders of :mod:`dldna_helpers.data` never fall back silently: without CIFAR-100 (no internet,
no cached copy) they raise :class:`~dldna_helpers.data.DataUnavailableError`, unless
``$DLDNA_ALLOW_STANDIN`` permits a synthetic stand-in of the same shape. A page whose CIFAR section
is one experiment among several should not stop there: :func:`cifar100_or_reason` returns the
loaders, or ``None`` and the reason, and the page shows :func:`notice` — what ran (real data, the
stand-in) or that nothing ran and how to get the data. A deploy that must publish real CIFAR
results sets ``$DLDNA_REQUIRE_CIFAR=1``: then a missing dataset stops the page with the loader's
error, and so does the stand-in.
"""
from __future__ import annotations

import html
import os

from .data import STANDIN_ENV, DataUnavailableError, TensorLoader, cifar100_loaders
from .env import env_flag

__all__ = ["REQUIRE_ENV", "cifar_required", "cifar100_or_reason", "notice"]

REQUIRE_ENV = "DLDNA_REQUIRE_CIFAR"


def cifar_required() -> bool:
    """Whether ``$DLDNA_REQUIRE_CIFAR`` demands the real CIFAR-100 (unset: no)."""
    return env_flag(REQUIRE_ENV)


def cifar100_or_reason(train_subset: int | None, test_subset: int | None, batch_size: int,
                       seed: int = 0) -> tuple[tuple[TensorLoader, TensorLoader] | None, str]:
    """``((train, test), "")`` when CIFAR-100 (or the permitted stand-in) loads; ``(None, reason)``
    when it is not available and not required. Required (``$DLDNA_REQUIRE_CIFAR``), a missing
    dataset raises, and so does the stand-in (it is not the data a deploy promised)."""
    required = cifar_required()
    try:
        loaders = cifar100_loaders(train_subset, test_subset, batch_size, seed=seed)
    except DataUnavailableError as err:
        if required:
            raise
        return None, str(err)
    if required and loaders[0].data.is_standin:
        raise DataUnavailableError(
            f"{REQUIRE_ENV} asks for the real CIFAR-100, but {STANDIN_ENV} let the synthetic stand-in in: "
            f"unset {STANDIN_ENV} and provide the data (torchvision downloads it once, with internet)")
    return loaders, ""


def notice(loaders: tuple[TensorLoader, TensorLoader] | None, reason: str = "") -> str | None:
    """The warning box (HTML) the CIFAR section shows above its results: for the stand-in and for
    missing data; ``None`` for the real CIFAR-100."""
    if loaders is not None and not loaders[0].data.is_standin:
        return None
    if loaders is not None:
        title = "주의: CIFAR-100 대신 합성 대체 데이터"
        body = ("이 실행은 CIFAR-100을 내려받을 수 없는 환경에서 모양만 같은 <b>합성 대체 데이터</b>로 "
                f"실행되었습니다(<code>{STANDIN_ENV}=1</code>). 아래 그림과 숫자는 코드가 돌아간다는 것만 "
                "보여 줄 뿐 <b>CIFAR-100의 결과가 아닙니다</b>. 인터넷에 연결된 환경(Colab 등)에서 이 변수 "
                "없이 다시 실행하면 실제 데이터로 학습합니다.")
    else:
        title = "CIFAR-100을 구하지 못해 이 실험을 건너뛰었습니다"
        body = ("이 실행에는 CIFAR-100이 없고 내려받을 수도 없었습니다. 인터넷에 연결된 환경(Colab 등)에서 "
                "이 페이지를 한 번 실행하면 torchvision이 데이터를 내려받아 캐시에 두고, 그다음부터는 "
                "오프라인에서도 실행됩니다. 코드가 돌아가는지만 확인하려면 "
                f"<code>{STANDIN_ENV}=1</code>로 모양만 같은 합성 데이터를 쓸 수 있습니다(결과는 CIFAR-100의 "
                f"것이 아닙니다). 로더의 메시지: <code>{html.escape(reason[:400])}</code>")
    return (f'<div class="admonition warning"><p class="admonition-title">{title}</p>'
            f"<p>{body}</p></div>")
