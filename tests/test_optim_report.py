"""5.2's comparison sentences: built from Differences, true of whatever the runs turn out to be."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from dldna_helpers import optim_report as orep
from dldna_helpers.data import TensorData, TensorLoader
from dldna_helpers.report import has_final_consonant
from dldna_helpers.stats import Difference


def diff(value: float, half: float, seeds: int = 3, df: float = 2.0) -> Difference:
    return Difference(value, half, df, seeds, 100)


@dataclass
class Run:
    train_loss: list[float]
    diverged: bool = False
    test_acc: tuple[float, ...] = (0.1, 0.8)

    def status(self) -> str:
        return "발산 (3번째 스텝)" if self.diverged else "완료"


def test_clear_pairs_names_the_lower_one_first_and_counts_the_rest():
    text = orep.clear_pairs({("Adam", "SGD"): diff(-1.0, 0.5), ("Lion", "SGD"): diff(2.0, 0.5),
                             ("Lion", "Adam"): diff(0.1, 0.5)})
    assert "2쌍" in text and "Adam–SGD(1.00%p, 오차 범위 ±0.50%p)" in text and "SGD–Lion" in text
    assert text.endswith("나머지 1쌍은 오차 범위 안이라 가릴 수 없습니다")
    none = orep.clear_pairs({("Adam", "SGD"): diff(-0.1, 0.5)})
    assert none == "1쌍 모두 차이가 오차 범위 안이라, 어느 쌍도 가릴 수 없습니다"
    loss = orep.clear_pairs({("A", "B"): diff(-0.0123, 0.004)}, "학습 손실", unit="", digits=3)
    assert "학습 손실이 낮은 쪽" in loss and "A–B(0.012, 오차 범위 ±0.004)" in loss
    with pytest.raises(ValueError):
        orep.clear_pairs({})


def test_versus_baseline_sorts_every_name_once():
    text = orep.versus_baseline({"Adam": diff(-1, 0.5), "Lion": diff(0.1, 0.5), "Sophia": diff(2, 0.5)},
                                "SGD+모멘텀")
    assert text == ("SGD+모멘텀보다 오차율이 분명히 낮은 최적화기는 1개(Adam)였고, 분명히 높은 것은 1개(Sophia)"
                    "이며, 나머지 1개(Lion)는 SGD+모멘텀과의 차이가 오차 범위 안이라 가릴 수 없습니다")
    assert orep.versus_baseline({"Adam": diff(1, 0.5)}, "SGD").endswith("분명히 높은 것은 1개(Adam)입니다")
    assert orep.versus_baseline({"Adam": diff(0, 0.5), "Lion": diff(-1, 0.5)}, "SGD").startswith(
        "SGD보다 오차율이 분명히 낮은 최적화기는 1개(Lion)였고, 분명히 높은 것은 없었으며,")
    assert orep.versus_baseline({"Adam": diff(0, 0.5), "Lion": diff(0.1, 0.5)}, "SGD+모멘텀", "학습 손실") == (
        "2개(Adam, Lion) 모두 SGD+모멘텀과의 차이가 오차 범위 안이라, SGD+모멘텀보다 학습 손실이 분명히 "
        "낮거나 높은 최적화기는 없었습니다")


def test_loss_difference_leaves_diverged_seeds_out_of_both_sides():
    a = [Run([1, 0.30]), Run([1, 0.31]), Run([1, 9.0], diverged=True), Run([1, 0.29])]
    b = [Run([1, 0.40]), Run([1, 0.42]), Run([1, 0.41]), Run([1, 0.39])]
    d = orep.loss_difference(a, b)
    assert d.seeds == 3 and d.value == pytest.approx(-0.1033, abs=1e-3) and d.sign == -1
    assert orep.loss_difference(a[2:], b[2:]) is None       # one seed left: nothing to compare


def test_small_helpers():
    assert orep.value_range([diff(-0.04, 1), diff(6.05, 1), diff(1.2, 1)]) == "0.0–6.0"
    assert orep.seed_share([diff(1, 1, seeds=3, df=2.0), diff(1, 1, seeds=3, df=4.0)]) == pytest.approx(0.75)
    assert orep.names_or([], "{n}개({names})", "없음") == "없음"
    assert orep.names_or(["A", "B"], "{n}개({names})", "없음") == "2개(A, B)"
    assert orep.lowest({"A": [17.0, 18.0], "B": [16.0, 16.5]}) == "B(16.25%)"
    assert orep.diverged_text([Run([1]), Run([1], diverged=True)]) == "1/2: 발산 (3번째 스텝)"
    assert orep.diverged_text([Run([1])]) == "없음"
    assert orep.status_sentence({"A": "interior"}).startswith("고른 학습률은 모두")
    assert orep.status_sentence({"A": "interior", "B": "cliff"}) == (
        "고른 학습률이 안쪽에 오지 않은 최적화기는 B(발산한 점 바로 옆)입니다")


def test_curves_alt_particles_fit_the_numbers():
    runs = {"Lion": [Run([1, 0.353], test_acc=(0.1, 0.83))], "Adam": [Run([1, 0.365], test_acc=(0.1, 0.82))]}
    text = orep.curves_alt(runs)
    assert "Lion이 0.353으로 가장 낮고" in text and "Lion이 83.0%로" in text
    assert has_final_consonant("0.353")


def loaders(standin: bool):
    data = TensorData(torch.zeros(4, 3, 32, 32), torch.zeros(4, dtype=torch.long), tuple("abcd"), "t", standin)
    return TensorLoader(data, 2), TensorLoader(data, 2)


def test_cifar_sentences_follow_the_data_source():
    assert "학습하지 않았습니다" in orep.cifar_source_sentence(None)
    assert "합성 대체 데이터" in orep.cifar_source_sentence(loaders(True))
    assert orep.cifar_source_sentence(loaders(False)) == "이번 실행은 실제 CIFAR-100으로 학습했습니다."
    assert "결과가 없습니다" in orep.cifar_reading(None, None, ["CNN"], ["A", "B"])
    assert "아무것도 말하지 않습니다" in orep.cifar_reading({}, loaders(True), ["CNN"], ["A", "B"])
    one_seed = {("CNN", "A"): [Run([1])], ("CNN", "B"): [Run([1])]}
    assert "시드가 1개뿐이어서" in orep.cifar_reading(one_seed, loaders(False), ["CNN"], ["A", "B"])
    assert "CIFAR-100의 결과 아님" in orep.cifar_caption(loaders(True), 3)
    assert orep.diverged_note([Run([1]), Run([1], diverged=True)]) == " (발산 1/2)"


@dataclass
class SampleRun:
    """A run with per-sample test errors, as report.run_difference reads them."""
    errors: tuple[float, ...]
    diverged: bool = False

    def test_errors(self):
        import numpy as np
        return np.array(self.errors)


def test_differences_survive_identical_runs_and_too_few_seeds():
    same = [SampleRun((0, 1, 0, 1)), SampleRun((1, 1, 0, 0))]
    d = orep.error_difference(same, same)
    assert (d.value, d.half_width, d.sign) == (0.0, 0.0, 0)          # identical: differ by nothing
    assert orep.error_difference(same, [SampleRun((0, 0, 0, 0)), SampleRun((0, 0, 0, 0), diverged=True)]) is None
    assert orep.scalar_difference([0.3, 0.4], [0.3, 0.4]).value == 0.0
    assert orep.loss_difference([Run([1, 0.3])], [Run([1, 0.4])]) is None
    assert orep.compare("Adam", "Lion", None) == (
        "Adam과 Lion은 두 쪽 모두 끝까지 학습한 시드가 둘이 되지 않아 비교하지 않습니다")
    text = orep.clear_pairs({("A", "B"): None, ("A", "C"): diff(0.1, 0.5)})
    assert text == "1쌍 모두 차이가 오차 범위 안이라, 어느 쌍도 가릴 수 없습니다(끝까지 학습한 시드가 모자란 1쌍은 비교하지 않았습니다)"
    assert orep.clear_pairs({("A", "B"): None}) == "1쌍 모두 끝까지 학습한 시드가 모자라 비교하지 않았습니다"
    assert orep.versus_baseline({"Adam": None}, "SGD") == "1개(Adam) 모두 끝까지 학습한 시드가 모자라 SGD와 비교하지 않았습니다"
    assert orep.versus_baseline({"Adam": None, "Lion": diff(0.1, 0.5)}, "SGD") == (
        "1개(Lion) 모두 SGD와의 차이가 오차 범위 안이라, SGD보다 오차율이 분명히 낮거나 높은 최적화기는 없었습니다"
        "(끝까지 학습한 시드가 모자란 1개(Adam)는 비교하지 않았습니다)")
    assert orep.versus_baseline({"Adam": None, "Lion": diff(-1, 0.5)}, "SGD").endswith(
        "분명히 높은 것은 없었습니다(끝까지 학습한 시드가 모자란 1개(Adam)는 비교하지 않았습니다)")
    with pytest.raises(ValueError, match="no differences"):
        orep.versus_baseline({}, "SGD")


def test_cifar_sizes_sentence_with_and_without_data():
    from dldna_helpers.env import PROFILES

    quick = PROFILES["quick"]
    assert orep.cifar_sizes_sentence(quick, None) == (
        "이 프로파일은 학습 이미지 500장, 시험 이미지 250장, 배치 32개로 3 에포크를 시드 3개로 학습하도록 정해 "
        "두었습니다(이번 실행에서는 데이터가 없어 학습하지 않았습니다).")
    assert "학습 이미지 전체" in orep.cifar_sizes_sentence(PROFILES["full"], None)
    assert orep.cifar_sizes_sentence(quick, loaders(False)) == (
        "이번 실행은 학습 이미지 4장, 시험 이미지 4장, 배치 32개(에포크당 2스텝), 3 에포크, 시드 3개입니다.")
