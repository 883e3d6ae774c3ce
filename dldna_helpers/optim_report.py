"""Sentences and figure descriptions of 5.2 (optimizers), built from its runs.

Every comparison is worded by :func:`dldna_helpers.report.compare` from a
:class:`~dldna_helpers.stats.Difference` (the chapter's rule); the functions here only gather
several comparisons into one sentence, so that a sentence naming "every clear pair" or "every
optimizer clearly worse than the baseline" is true of the runs whatever they turn out to be.
The level of the differences (e.g. :func:`dldna_helpers.stats.family_level` for many pairs) is
chosen by the caller.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from . import report
from .report import josa, with_josa
from .stats import Difference

__all__ = ["compare", "compare_scalar", "clear_pairs", "error_difference", "scalar_difference",
           "loss_difference", "seed_share", "value_range", "versus_baseline", "names_or", "lowest",
           "diverged_text", "STATUS", "status_sentence", "curves_alt", "sweep_alt", "cifar_sizes_sentence",
           "cifar_source_sentence", "cifar_caption", "cifar_alt", "diverged_note", "cifar_reading"]

STATUS = {"interior": "안쪽", "edge": "격자의 끝", "cliff": "발산한 점 바로 옆"}


def _not_compared(a: str, b: str) -> str:
    return (f"{a}{josa(a, '과/와')} {b}{josa(b, '은/는')} 두 쪽 모두 끝까지 학습한 시드가 둘이 되지 않아 "
            "비교하지 않습니다")


def compare(a: str, b: str, diff: Difference | None, quantity: str = "오차율") -> str:
    """A − B of error rates (percentage points) in one sentence."""
    if diff is None:
        return _not_compared(a, b)
    return report.compare(a, b, diff, quantity=quantity, unit="%p", digits=2)


def compare_scalar(a: str, b: str, diff: Difference | None, quantity: str, digits: int = 2) -> str:
    """A − B of a per-seed quantity without unit (a loss, a norm) in one sentence."""
    if diff is None:
        return _not_compared(a, b)
    return report.compare(a, b, diff, quantity=quantity, unit="", digits=digits)


def _amount(x: float, digits: int = 2) -> str:
    return report.format_number(abs(x), digits)


def clear_pairs(diffs: Mapping[tuple[str, str], Difference], quantity: str = "오차율", *,
                unit: str = "%p", digits: int = 2) -> str:
    """Which of the pairs ``(a, b) → a − b`` differ clearly, the lower one first; the rest undecided.
    Ends without a full stop."""
    if not diffs:
        raise ValueError("no pairs to report")
    missing = sum(d is None for d in diffs.values())
    diffs = {pair: d for pair, d in diffs.items() if d is not None}
    if not diffs:
        return f"{missing}쌍 모두 끝까지 학습한 시드가 모자라 비교하지 않았습니다"
    clear = []
    for (a, b), d in diffs.items():
        if d.sign:
            low, high = (a, b) if d.sign < 0 else (b, a)
            clear.append(f"{low}–{high}({_amount(d.value, digits)}{unit}, "
                         f"오차 범위 ±{_amount(d.half_width, digits)}{unit})")
    rest = len(diffs) - len(clear)
    skipped = f"(끝까지 학습한 시드가 모자란 {missing}쌍은 비교하지 않았습니다)" if missing else ""
    if not clear:
        return f"{len(diffs)}쌍 모두 차이가 오차 범위 안이라, 어느 쌍도 가릴 수 없습니다" + skipped
    text = (f"차이가 분명한 쌍은 {len(clear)}쌍이었고({with_josa(quantity, '이/가')} 낮은 쪽을 앞에 적으면 "
            f"{', '.join(clear)})")
    return text + (f", 나머지 {rest}쌍은 오차 범위 안이라 가릴 수 없습니다" if rest else "") + skipped


def _guarded(compute, seeds: int, level: float) -> Difference | None:
    """``compute()``; ``None`` when fewer than two seeds finished for both sides (nothing to
    compare), an exact zero Difference when the two sides gave identical results (the stats rule
    refuses zero variance: identical results need no test, and differ by nothing)."""
    try:
        return compute()
    except ValueError as err:
        text = str(err)
        if "zero variance" in text:
            return Difference(0.0, 0.0, math.inf, seeds, None, level)
        if "seed(s)" in text and ("finished" in text or "not enough" in text or "at least 2" in text):
            return None
        raise


def error_difference(a_runs: Sequence[Any], b_runs: Sequence[Any], *, level: float = 0.95) -> Difference | None:
    """A − B of the test error rate in percentage points, paired by seed and test image
    (:func:`dldna_helpers.report.run_difference`; diverged seeds leave both sides)."""
    return _guarded(lambda: report.run_difference(a_runs, b_runs, "error", level=level)[0], len(a_runs), level)


def scalar_difference(a: Sequence[float], b: Sequence[float], *, level: float = 0.95) -> Difference | None:
    """A − B of per-seed values (a loss, a norm), paired by seed."""
    from .stats import paired_difference

    return _guarded(lambda: paired_difference(a, b, level=level), len(a), level)


def loss_difference(a_runs: Sequence[Any], b_runs: Sequence[Any], *, level: float = 0.95) -> Difference | None:
    """A − B of the final training loss, paired by seed over the seeds both finished (a diverged
    run has no final loss: that seed leaves both sides); ``None`` below two such seeds."""
    kept = [(a.train_loss[-1], b.train_loss[-1]) for a, b in zip(a_runs, b_runs)
            if not a.diverged and not b.diverged]
    if len(kept) < 2:
        return None
    return scalar_difference([x for x, _ in kept], [y for _, y in kept], level=level)


def seed_share(diffs: Sequence[Difference]) -> float:
    """The median share of the interval's variance that comes from the seeds (the rest from the
    test samples): (S − 1)/df by the df rule of :mod:`dldna_helpers.stats`."""
    return float(np.median([(d.seeds - 1) / d.df for d in diffs if d is not None] or [math.nan]))


def names_or(names: Sequence[str], some: str, none: str) -> str:
    """``some`` with ``{n}`` and ``{names}`` filled in, or ``none`` when there are no names."""
    return some.format(n=len(names), names=", ".join(names)) if names else none


def _listed(names: Sequence[str]) -> str:
    return f"{len(names)}개({', '.join(names)})"


def versus_baseline(diffs: Mapping[str, Difference | None], base: str, quantity: str = "오차율") -> str:
    """Each name's ``name − base`` difference sorted into clearly lower, clearly higher and
    undecided, in one sentence (no full stop). A name whose difference is ``None`` (too few seeds
    finished on one side) is named as not compared, not counted among the undecided."""
    missing = [n for n, d in diffs.items() if d is None]
    diffs = {n: d for n, d in diffs.items() if d is not None}
    if not diffs:
        if not missing:
            raise ValueError("no differences to report")
        return f"{_listed(missing)} 모두 끝까지 학습한 시드가 모자라 {base}{josa(base, '과/와')} 비교하지 않았습니다"
    skipped = f"(끝까지 학습한 시드가 모자란 {_listed(missing)}는 비교하지 않았습니다)" if missing else ""
    lower = [n for n, d in diffs.items() if d.sign < 0]
    higher = [n for n, d in diffs.items() if d.sign > 0]
    undecided = [n for n, d in diffs.items() if d.sign == 0]
    if not lower and not higher:   # "none lower, none higher, the remaining seven" reads oddly
        return (f"{_listed(undecided)} 모두 {base}{josa(base, '과/와')}의 차이가 오차 범위 안이라, "
                f"{base}보다 {with_josa(quantity, '이/가')} 분명히 낮거나 높은 최적화기는 없었습니다" + skipped)
    text = (f"{base}보다 {with_josa(quantity, '이/가')} 분명히 낮은 최적화기는 "
            + (f"{_listed(lower)}였고" if lower else "없었고"))
    text += ", 분명히 높은 것은 " + (_listed(higher) if higher else "없었")
    if not undecided:
        return text + ("입니다" if higher else "습니다") + skipped
    text += "이며," if higher else "으며,"
    return (text + f" 나머지 {_listed(undecided)}는 {base}{josa(base, '과/와')}의 차이가 "
            "오차 범위 안이라 가릴 수 없습니다" + skipped)


def lowest(values: Mapping[str, Sequence[float]], digits: int = 2) -> str:
    """``name(mean%)`` of the name with the lowest mean."""
    name = min(values, key=lambda n: float(np.mean(values[n])))
    return f"{name}({report.format_number(float(np.mean(values[name])), digits)}%)"


def diverged_text(histories: Sequence[Any]) -> str:
    """'없음', or how many of the seeds diverged and where ('1/3: 발산 (12번째 스텝)')."""
    stopped = [h.status() for h in histories if h.diverged]
    return f"{len(stopped)}/{len(histories)}: {', '.join(stopped)}" if stopped else "없음"


def status_sentence(status: Mapping[str, str]) -> str:
    """Where each search's pick sits, in one clause (no full stop)."""
    odd = {n: s for n, s in status.items() if s != "interior"}
    if not odd:
        return "고른 학습률은 모두 시도한 격자의 안쪽에 있습니다(양옆에 발산하지 않은 격자점이 있습니다)"
    named = ", ".join(f"{n}({STATUS[s]})" for n, s in odd.items())
    return f"고른 학습률이 안쪽에 오지 않은 최적화기는 {named}입니다"


def curves_alt(runs: Mapping[str, Sequence[Any]]) -> str:
    """Alt text of experiment 2's curves: what is plotted and who ends lowest/highest."""
    loss = {n: float(np.mean([h.train_loss[-1] for h in hs])) for n, hs in runs.items()}
    acc = {n: float(np.mean([h.test_acc[-1] for h in hs])) * 100 for n, hs in runs.items()}
    lo, hi = min(loss, key=loss.get), max(acc, key=acc.get)
    return (f"세 그림은 에포크마다의 학습 손실, 시험 정확도, 그래디언트 노름이다. 마지막 학습 손실은 "
            f"{with_josa(lo, '이/가')} {with_josa(f'{loss[lo]:.3f}', '으로/로')} 가장 낮고, 마지막 시험 "
            f"정확도는 {with_josa(hi, '이/가')} {acc[hi]:.1f}%로 가장 높다.")


def sweep_alt(search: Any, picks: Mapping[str, float], errors: Mapping[str, Sequence[float]]) -> str:
    """Alt text of the learning-rate search figure: the picks and the tuned error rates."""
    chosen = ", ".join(f"{n} {report.significant(search.lr(n, x), 2)}" for n, x in picks.items())
    rates = ", ".join(f"{n} {np.mean(e):.2f}%" for n, e in errors.items())
    return (f"왼쪽은 최적화기마다 학습률에 따른 마지막 에포크의 학습 손실이고, 별로 표시한 고른 학습률은 "
            f"{chosen}이다. 오른쪽은 고른 학습률의 시험 오차율 평균으로 {rates}이다.")


# ------------------------------------------------------------------ experiment 3 (CIFAR-100)
def _cifar_kind(loaders: Any) -> str:
    if loaders is None:
        return "missing"
    return "standin" if loaders[0].data.is_standin else "real"


def cifar_source_sentence(loaders: Any) -> str:
    """Which data the CIFAR section ran on, in one sentence."""
    return {
        "real": "이번 실행은 실제 CIFAR-100으로 학습했습니다.",
        "standin": "이번 실행은 CIFAR-100을 구할 수 없는 환경이어서 모양만 같은 합성 대체 데이터로 학습했으므로, "
                   "아래의 숫자와 그림은 CIFAR-100의 결과가 아닙니다.",
        "missing": "이번 실행에는 CIFAR-100이 없어서 이 실험을 학습하지 않았습니다.",
    }[_cifar_kind(loaders)]


def cifar_sizes_sentence(profile: Any, loaders: Any) -> str:
    """The CIFAR experiment's sizes as run (or, without data, as the profile sets them)."""
    seeds, epochs, batch = len(profile.cifar_seeds), profile.cifar_epochs, profile.cifar_batch
    if loaders is None:
        n_train = f"{profile.cifar_train:,}장" if profile.cifar_train else "전체"
        n_test = f"{profile.cifar_test:,}장" if profile.cifar_test else "전체"
        return (f"이 프로파일은 학습 이미지 {n_train}, 시험 이미지 {n_test}, 배치 {batch}개로 {epochs} 에포크를 시드 "
                f"{seeds}개로 학습하도록 정해 두었습니다(이번 실행에서는 데이터가 없어 학습하지 않았습니다).")
    train, test = loaders
    return (f"이번 실행은 학습 이미지 {len(train.data):,}장, 시험 이미지 {len(test.data):,}장, 배치 {batch}개"
            f"(에포크당 {len(train)}스텝), {epochs} 에포크, 시드 {seeds}개입니다.")


def cifar_caption(loaders: Any, n_seeds: int) -> str:
    data = "실제 CIFAR-100" if _cifar_kind(loaders) == "real" else "합성 대체 데이터, CIFAR-100의 결과 아님"
    return f"작은 CNN과 ViT의 시험 정확도 ({data}; 시드 {n_seeds}개의 평균)."


def cifar_alt(cifar: Mapping[tuple[str, str], Sequence[Any]]) -> str:
    parts = []
    for (model, opt), runs in cifar.items():
        done = [h.test_acc[-1] for h in runs if not h.diverged]
        parts.append(f"{model} {opt} {100 * np.mean(done):.1f}%" if done else f"{model} {opt} 발산")
    return "두 그림은 에포크마다의 시험 정확도이고, 마지막 정확도의 평균은 " + ", ".join(parts) + "이다."


def diverged_note(histories: Sequence[Any]) -> str:
    n = sum(h.diverged for h in histories)
    return f" (발산 {n}/{len(histories)})" if n else ""


def cifar_reading(cifar: Mapping[tuple[str, str], Sequence[Any]] | None, loaders: Any,
                  models: Sequence[str], optimizers: Sequence[str]) -> str:
    """What the CIFAR results let the page say, in full sentences: nothing for missing or stand-in
    data or a single seed; otherwise every clear pair per model, at the family level of all pairs."""
    from .stats import family_level

    kind = _cifar_kind(loaders)
    if kind == "missing":
        return "이 실행에는 CIFAR-100이 없어서 결과가 없습니다. 위의 상자가 데이터를 구하는 방법을 알려 줍니다."
    if kind == "standin":
        return ("이 실행의 표와 그림은 합성 대체 데이터에서 나온 것이어서, 코드가 돌아간다는 확인일 뿐 최적화기나 "
                "모델에 대해서는 아무것도 말하지 않습니다.")
    n_seeds = len(next(iter(cifar.values())))
    if n_seeds < 3:
        return (f"시드가 {n_seeds}개뿐이어서 최적화기 사이의 차이는 해석하지 않습니다(이 책의 기준은 시드 셋 "
                "이상입니다).")
    pairs = [(a, b) for i, a in enumerate(optimizers) for b in optimizers[i + 1:]]
    level = family_level(len(pairs) * len(models))
    sentences = []
    for model in models:
        diffs = {(a, b): error_difference(cifar[model, a], cifar[model, b], level=level) for a, b in pairs}
        sentences.append(f"{model}에서는 세 최적화기의 {clear_pairs(diffs)}.")
    return (f"시드 {n_seeds}개로 짝지어 견주면(여섯 쌍을 모두 보므로 쌍마다 {100 * level:.2f}% 구간) "
            + " ".join(sentences) + " `quick` 프로파일의 CIFAR 실험은 클래스당 이미지가 몇 장뿐이고 몇 에포크만 "
            "학습하므로, 여기서의 차이는 이 작은 설정의 기록으로만 읽어야 합니다.")


def value_range(diffs: Sequence[Difference], digits: int = 1) -> str:
    """'0.0–6.1': the smallest and largest size |A − B| among ``diffs``."""
    sizes = sorted(abs(d.value) for d in diffs if d is not None) or [math.nan]
    return f"{sizes[0]:.{digits}f}–{sizes[-1]:.{digits}f}"
