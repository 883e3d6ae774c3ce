"""5.2's CIFAR section goes on without CIFAR-100 (saying so), unless a deploy requires the data."""
from __future__ import annotations

import pytest
import torch

from dldna_helpers import optional_data as od
from dldna_helpers.data import DataUnavailableError, TensorData, TensorLoader


def fake_loaders(standin: bool):
    data = TensorData(torch.zeros(4, 3, 32, 32), torch.zeros(4, dtype=torch.long), tuple("abcd"), "test", standin)
    return TensorLoader(data, 2), TensorLoader(data, 2)


def offline(*args, **kwargs):
    raise DataUnavailableError("CIFAR-100을 내려받지 못했습니다 (no network)")


def test_missing_data_gives_a_reason_and_a_visible_notice(monkeypatch):
    monkeypatch.delenv(od.REQUIRE_ENV, raising=False)
    monkeypatch.setattr(od, "cifar100_loaders", offline)
    loaders, reason = od.cifar100_or_reason(10, 10, 2)
    assert loaders is None and "no network" in reason
    box = od.notice(loaders, reason)
    assert "건너뛰었습니다" in box and "DLDNA_ALLOW_STANDIN=1" in box and "no network" in box


def test_required_data_stops_the_page(monkeypatch):
    monkeypatch.setenv(od.REQUIRE_ENV, "1")
    monkeypatch.setattr(od, "cifar100_loaders", offline)
    with pytest.raises(DataUnavailableError, match="no network"):
        od.cifar100_or_reason(10, 10, 2)
    monkeypatch.setattr(od, "cifar100_loaders", lambda *a, **k: fake_loaders(standin=True))
    with pytest.raises(DataUnavailableError, match="stand-in"):
        od.cifar100_or_reason(10, 10, 2)


def test_real_and_standin_data(monkeypatch):
    monkeypatch.setenv(od.REQUIRE_ENV, "no")
    monkeypatch.setattr(od, "cifar100_loaders", lambda *a, **k: fake_loaders(standin=True))
    loaders, reason = od.cifar100_or_reason(10, 10, 2)
    assert loaders is not None and reason == "" and "합성 대체 데이터" in od.notice(loaders)
    monkeypatch.setattr(od, "cifar100_loaders", lambda *a, **k: fake_loaders(standin=False))
    loaders, _ = od.cifar100_or_reason(10, 10, 2)
    assert od.notice(loaders) is None


def test_require_flag_must_be_yes_or_no(monkeypatch):
    monkeypatch.setenv(od.REQUIRE_ENV, "maybe")
    with pytest.raises(ValueError, match="DLDNA_REQUIRE_CIFAR='maybe' is not a yes/no value"):
        od.cifar_required()
