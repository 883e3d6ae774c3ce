"""Run environment: device, seeds, run profile, Korean fonts and the provenance line.

Every size an experiment in the chapter uses is defined once here, in :data:`PROFILES`.
A page asks for ``get_profile()`` and reads its sizes from it, so the same notebook runs
in minutes on a laptop CPU (``quick``) and at the original scale on a GPU (``full``).
"""
from __future__ import annotations

import errno
import importlib.util
import json
import os
import platform
import random
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

PROFILE_ENV = "DLDNA_PROFILE"
SIZES_ENV = "DLDNA_PROFILE_SIZES"   # JSON object of Profile fields to change, e.g. '{"cifar_epochs": 5}'
CACHE_ENV = "DLDNA_CACHE_DIR"
PAGE_SEED_ENV = "DLDNA_PAGE_SEED"    # run a page with another seed (its claims must still hold)


def get_device(prefer: str | None = None) -> torch.device:
    """CUDA when available, else CPU. ``prefer`` (e.g. ``"cpu"``) overrides the choice."""
    if prefer is not None:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={prefer!r} was requested but CUDA is not available; use 'cpu' or None")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (all devices); return a torch generator with that seed."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


_YES = {"1", "true", "yes", "on", "y"}
_NO = {"0", "false", "no", "off", "n", ""}


def env_flag(name: str) -> bool:
    """A yes/no environment variable: 1/0, true/false, yes/no, on/off, y/n (any case); unset is no.
    Anything else is an error that names the variable and what it accepts."""
    raw = os.environ.get(name, "")
    value = raw.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(f"{name}={raw!r} is not a yes/no value; use one of 1/0, true/false, yes/no, on/off, "
                     "y/n (any case), or leave it unset (no)")


def page_seed(default: int) -> int:
    """The page's seed: ``default``, or ``$DLDNA_PAGE_SEED`` when set (to check that what the page
    says does not hang on one seed)."""
    text = os.environ.get(PAGE_SEED_ENV, "").strip()
    if not text:
        return default
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"{PAGE_SEED_ENV} must be a non-negative integer, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class Profile:
    """All experiment sizes of the chapter. ``None`` for a subset means the whole split."""

    name: str
    # FashionMNIST (5.1, 5.2, 5.3, 5.5)
    fmnist_train: int | None
    fmnist_test: int | None
    batch_size: int
    pipeline_epochs: int
    pipeline_seeds: tuple[int, ...]
    init_epochs: int
    init_seeds: tuple[int, ...]
    init_depth: int   # hidden layers of 5.1's deep variant (width 64)
    # 5.1's experiment 2 (the deep MLP): its effects are small enough that three seeds flip verdicts
    init_deep_seeds: tuple[int, ...]
    init_deep_epochs: int
    optim_epochs: int
    optim_seeds: tuple[int, ...]
    # learning-rate search (5.2): points of its first grid, half a decade apart around the reference
    # lr (it grows until each pick is interior); every run is as long as experiment 2's (optim_epochs)
    sweep_lrs: int
    # CIFAR-100 (5.2): subsets, batch, epochs, seeds, and the sizes of its two models
    cifar_train: int | None
    cifar_test: int | None
    cifar_batch: int
    cifar_epochs: int
    cifar_seeds: tuple[int, ...]
    cifar_cnn_width: int     # SmallCNN's first block's channels
    cifar_vit_dim: int       # SmallViT's token width (4 heads: a multiple of 4; MLP width 2× this)
    cifar_vit_depth: int     # SmallViT's encoder blocks
    # loss landscape (5.3, 5.4)
    landscape_epochs: int
    landscape_eval_samples: int
    surface_points: int
    hessian_samples: int
    skip_depth: int
    skip_epochs: int
    # seeds of 5.3's repeated experiments: the skip-connection study (each seed its own training
    # subset, initial weights and Hessian subset) and the barrier between independent runs
    landscape_seeds: tuple[int, ...]
    # training dynamics (5.5): epochs per run, and the seeds of its comparisons (schedules,
    # warmup, clipping)
    dynamics_epochs: int
    dynamics_seeds: tuple[int, ...]
    # sharpness during full-batch GD (5.5): training images, GD steps per learning rate
    sharpness_train: int
    sharpness_steps: int
    # exercises
    exercise_epochs: int
    # sizes changed from the named profile through $DLDNA_PROFILE_SIZES, as (field, value) pairs
    changed: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def describe(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self) if f.name not in ("name", "changed"))

    def label(self) -> str:
        """The profile's name, with the changed sizes if there are any."""
        if not self.changed:
            return self.name
        return f"{self.name} (크기 변경: {', '.join(f'{k}={v}' for k, v in self.changed)})"


_SUBSET_FIELDS = {"fmnist_train", "fmnist_test", "cifar_train", "cifar_test"}   # None = the whole split
_SEED_FIELDS = {"pipeline_seeds", "init_seeds", "init_deep_seeds", "optim_seeds", "cifar_seeds",
                "dynamics_seeds", "landscape_seeds"}
# The largest value that means what it says: a subset cannot exceed its split, and beyond the
# others a run would take days (or a grid would not fit in memory) on any machine this book targets.
SPLIT_SIZES = {"fmnist_train": 60000, "fmnist_test": 10000, "cifar_train": 50000, "cifar_test": 10000}
_SAMPLE_FIELDS = {"landscape_eval_samples", "hessian_samples", "sharpness_train"}   # drawn from the FashionMNIST training split
_WIDTH_FIELDS = {"cifar_cnn_width", "cifar_vit_dim"}
MAX_WIDTH = 1024
MAX_EPOCHS, MAX_SEEDS, MAX_SURFACE_POINTS, MAX_DEPTH, MAX_STEPS = 1000, 20, 401, 200, 100000


def _upper_bound(key: str) -> int:
    if key in SPLIT_SIZES:
        return SPLIT_SIZES[key]
    if key in _SAMPLE_FIELDS or key == "batch_size":
        return SPLIT_SIZES["fmnist_train"]
    if key == "cifar_batch":
        return SPLIT_SIZES["cifar_train"]
    if key in _WIDTH_FIELDS:
        return MAX_WIDTH
    if key == "surface_points":
        return MAX_SURFACE_POINTS
    if key in ("skip_depth", "init_depth", "cifar_vit_depth"):
        return MAX_DEPTH
    if key == "sharpness_steps":
        return MAX_STEPS
    return MAX_EPOCHS   # every *_epochs field


def _size_value(key: str, value: Any) -> Any:
    """``value`` checked for the Profile field ``key``; a ValueError names what is allowed."""
    if key in _SEED_FIELDS:
        if (isinstance(value, list) and 0 < len(value) <= MAX_SEEDS
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)):
            if len(set(value)) < len(value):   # a repeated seed is the same run counted twice
                raise ValueError(f"{SIZES_ENV}: {key} must list different seeds (a repeated seed repeats the "
                                 f"same run and makes the spread over seeds look smaller), got {value!r}")
            return tuple(value)
        raise ValueError(f"{SIZES_ENV}: {key} must be a non-empty list of at most {MAX_SEEDS} "
                         f"different non-negative ints, got {value!r}")
    if value is None and key in _SUBSET_FIELDS:
        return None
    bound = _upper_bound(key)
    if key == "cifar_vit_dim" and isinstance(value, int) and value % 4:
        raise ValueError(f"{SIZES_ENV}: cifar_vit_dim must be a multiple of 4 (the ViT has 4 attention heads), "
                         f"got {value!r}")
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= bound:
        return value
    allowed = f"a positive int up to {bound}" + (" or null (the whole split)" if key in _SUBSET_FIELDS else "")
    raise ValueError(f"{SIZES_ENV}: {key} must be {allowed}, got {value!r}")


def with_sizes(profile: Profile, text: str) -> Profile:
    """``profile`` with the sizes in the JSON object ``text`` changed (the ``$DLDNA_PROFILE_SIZES`` syntax)."""
    try:
        sizes = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{SIZES_ENV} must be a JSON object such as '{{\"cifar_epochs\": 5}}', got {text!r}") from err
    if not isinstance(sizes, dict):
        raise ValueError(f"{SIZES_ENV} must be a JSON object such as '{{\"cifar_epochs\": 5}}', got {text!r}")
    allowed = [f.name for f in fields(Profile) if f.name not in ("name", "changed")]
    unknown = sorted(set(sizes) - set(allowed))
    if unknown:
        raise ValueError(f"{SIZES_ENV}: unknown size {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}")
    values = {key: _size_value(key, value) for key, value in sizes.items()}
    return check_profile(replace(profile, **values, changed=tuple(sorted(values.items()))))


# Sizes drawn from the FashionMNIST training subset that a page cannot shrink: 5.5 takes its
# full-batch images as the first ``sharpness_train`` of the subset. (The landscape pages draw their
# evaluation and Hessian samples with ``subset``, which takes the whole subset when it is smaller.)
_WITHIN_FMNIST_TRAIN = ("sharpness_train",)


def check_profile(profile: Profile) -> Profile:
    """``profile`` if its sizes fit together: ``sharpness_train`` is no more than ``fmnist_train``,
    the training subset it is drawn from (otherwise 5.5 would fail halfway through)."""
    if profile.fmnist_train is not None:
        for key in _WITHIN_FMNIST_TRAIN:
            if getattr(profile, key) > profile.fmnist_train:
                raise ValueError(f"{SIZES_ENV}: {key}={getattr(profile, key)} is larger than fmnist_train="
                                 f"{profile.fmnist_train}, the training subset it is drawn from; lower it or "
                                 "raise fmnist_train")
    return profile


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        # the whole test split (evaluation is cheap) and three or five seeds wherever a page compares
        # methods: differences are judged against the seed-to-seed spread, not one draw
        fmnist_train=6000, fmnist_test=None, batch_size=128,
        pipeline_epochs=3, pipeline_seeds=(0, 1, 2), init_epochs=4, init_seeds=(0, 1, 2), init_depth=12,
        init_deep_seeds=(0, 1, 2, 3, 4), init_deep_epochs=4,
        optim_epochs=4, optim_seeds=(0, 1, 2),
        sweep_lrs=3,
        # a CPU-sized CIFAR experiment: 500 images in batches of 32 (16 steps an epoch), narrow models
        cifar_train=500, cifar_test=250, cifar_batch=32, cifar_epochs=3, cifar_seeds=(0, 1, 2),
        cifar_cnn_width=16, cifar_vit_dim=64, cifar_vit_depth=2,
        landscape_epochs=6, landscape_eval_samples=1000, surface_points=21, hessian_samples=500,
        skip_depth=12, skip_epochs=3, landscape_seeds=(0, 1, 2, 3, 4),
        # five seeds for 5.5's schedules: with three, the rule cannot decide even the gap
        # between decaying and constant learning rates (measured: seed sets 0-2, 3-5, 6-8)
        dynamics_epochs=6, dynamics_seeds=(0, 1, 2, 3, 4), sharpness_train=1000, sharpness_steps=300,
        exercise_epochs=3,
    ),
    "full": Profile(
        name="full",
        fmnist_train=None, fmnist_test=None, batch_size=128,
        # 5.2 in ≤ 20 min on one T4 (bench/estimate_full_profile.py: 19.0 min of work): its learning-rate
        # search trains every point as long as experiment 2 (10 epochs), CIFAR gets 12 epochs and one seed
        pipeline_epochs=10, pipeline_seeds=(0, 1, 2), init_epochs=20, init_seeds=(0, 1, 2), init_depth=12,
        # 13 deep configurations × 5 seeds: 10 epochs keep 5.1 under 20 min on a T4 (estimate: 17.0)
        init_deep_seeds=(0, 1, 2, 3, 4), init_deep_epochs=10,
        optim_epochs=10, optim_seeds=(0, 1, 2),
        sweep_lrs=3,
        cifar_train=None, cifar_test=None, cifar_batch=128, cifar_epochs=12, cifar_seeds=(0,),
        cifar_cnn_width=32, cifar_vit_dim=128, cifar_vit_depth=4,
        landscape_epochs=20, landscape_eval_samples=10000, surface_points=51, hessian_samples=5000,
        skip_depth=20, skip_epochs=10, landscape_seeds=(0, 1, 2),
        dynamics_epochs=20, dynamics_seeds=(0, 1, 2, 3, 4), sharpness_train=2000, sharpness_steps=1000,
        exercise_epochs=10,
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """The run profile: ``name``, else ``$DLDNA_PROFILE``, else ``full`` with CUDA and ``quick`` without;
    ``$DLDNA_PROFILE_SIZES`` (a JSON object) changes single sizes of it."""
    chosen = name or os.environ.get(PROFILE_ENV) or ("full" if torch.cuda.is_available() else "quick")
    key = chosen.strip().lower()
    if key not in PROFILES:
        raise ValueError(
            f"unknown run profile {chosen!r} (from {'argument' if name else PROFILE_ENV}); "
            f"allowed: {', '.join(sorted(PROFILES))}"
        )
    sizes = os.environ.get(SIZES_ENV, "").strip()
    return with_sizes(PROFILES[key], sizes) if sizes else PROFILES[key]


class CacheDirError(OSError):
    """The cache folder cannot be used; the message names ``$DLDNA_CACHE_DIR`` and how to fix it."""


def cache_root() -> tuple[Path, str]:
    """The cache folder (``$DLDNA_CACHE_DIR``, ``~`` expanded, or ``~/.cache/dldna``) and where it came from."""
    raw = os.environ.get(CACHE_ENV, "")
    if raw.strip():
        return Path(os.path.expanduser(raw.strip())), f"{CACHE_ENV}={raw!r}"
    return Path.home() / ".cache" / "dldna", f"the default cache folder ({CACHE_ENV} is unset)"


def _cache_problem(path: Path, err: OSError | None) -> str:
    if err is not None and err.errno == errno.ELOOP:
        return "a symbolic link in it points back at itself"
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"{probe} is a file, not a folder"
    if err is None:
        return "it is not a folder"
    return os.strerror(err.errno) if err.errno else str(err)


def cache_dir(*parts: str) -> Path:
    """The cache folder (``$DLDNA_CACHE_DIR`` or ``~/.cache/dldna``) joined with ``parts``, created
    on demand. A folder that cannot be created is a :class:`CacheDirError` that names the variable
    and the way out."""
    root, origin = cache_root()
    path = root.joinpath(*parts)
    problem = None
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not path.is_dir():
            problem = _cache_problem(path, None)
    except OSError as err:
        problem = _cache_problem(path, err)
    if problem is not None:
        raise CacheDirError(
            f"캐시 폴더를 쓸 수 없습니다 (the cache folder {path} cannot be used: {problem}). It comes from "
            f"{origin}. Point {CACHE_ENV} at a folder you can write, e.g. `%env {CACHE_ENV}=~/.cache/dldna` in "
            f"a notebook or `export {CACHE_ENV}=\"$HOME/.cache/dldna\"` in a shell, or unset it.")
    return path


# ---------------------------------------------------------------- Korean fonts
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",  # Debian/Ubuntu fonts-nanum
)


def korean_font_file() -> Path:
    """Path of a NanumGothic font file: koreanize-matplotlib's copy, else Debian's fonts-nanum."""
    # Locate koreanize-matplotlib's bundled font without importing it (importing it
    # rewrites rcParams and emits deprecation warnings).
    spec = importlib.util.find_spec("koreanize_matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        bundled = sorted(Path(folder).rglob("NanumGothic*.ttf"))
        regular = [p for p in bundled if p.stem == "NanumGothic"]
        if regular or bundled:
            return (regular or bundled)[0]
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    raise FileNotFoundError(
        "no Korean font found: `pip install koreanize-matplotlib` (bundles NanumGothic) "
        "or `apt-get install fonts-nanum`"
    )


KOREAN_FAMILY = "NanumGothic DLDNA"


def _font_with_minus_sign(path: Path) -> Path:
    """A copy of the Korean font that also maps U+2212 (the minus sign).

    NanumGothic has no U+2212. Matplotlib's mathtext (log-axis tick labels such as
    10^-3) draws the minus in the first font family and, finding no glyph, logs a warning
    and a box. The copy maps U+2212 to the font's en dash (or hyphen) and gets its own
    family name, so it never collides with a system-wide NanumGothic.
    """
    out = cache_dir("fonts") / "NanumGothic-DLDNA.ttf"
    if out.exists():
        return out
    from fontTools.ttLib import TTFont

    from .storage import atomic_write

    font = TTFont(str(path))
    for table in font["cmap"].tables:
        if table.isUnicode() and 0x2212 not in table.cmap:
            source = table.cmap.get(0x2013) or table.cmap.get(0x2D)
            if source is not None:
                table.cmap[0x2212] = source
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = KOREAN_FAMILY
        elif record.nameID == 6:
            record.string = KOREAN_FAMILY.replace(" ", "-")
    atomic_write(out, lambda tmp: font.save(str(tmp)))
    return out


def setup_korean_font() -> str:
    """Make matplotlib draw Korean text (NanumGothic) with an intact minus sign; return the family."""
    import matplotlib as mpl
    from matplotlib import font_manager

    path = _font_with_minus_sign(korean_font_file())
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    mpl.rcParams["font.family"] = [family, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = True
    return family


# ---------------------------------------------------------------- provenance
def provenance(profile: Profile, device: torch.device, seed: int | tuple[int, ...], data_source: str) -> str:
    """One line saying what produced a page's numbers and figures."""
    seeds = ",".join(map(str, seed)) if isinstance(seed, tuple) else str(seed)
    return (
        f"실행 정보 | 프로파일: {profile.label()} | 장치: {device.type} | 시드: {seeds} | "
        f"torch {torch.__version__} | Python {platform.python_version()} | 데이터: {data_source}"
    )


# Minutes each page is expected to take in the full profile on one T4 (Colab's free GPU):
# the estimate of bench/estimate_full_profile.py, as listed in the README's table (a test
# keeps the two equal). An estimate from counted operations, not a measurement.
FULL_PROFILE_T4_MINUTES: dict[str, float] = {
    "pipeline": 0.4, "initialization": 17.0, "optimizers": 19.0, "loss_landscape": 11.8,
    "gaussian_paths": 1.1, "training_dynamics": 16.5, "basic": 0.2, "applied": 3.0, "advanced": 3.5,
}
# The fingerprint of the work that estimate priced (the script prints it): a test fails when the full
# profile or a work list changes and these minutes were not estimated again.
FULL_PROFILE_T4_WORK = "03923c14ad03"


def full_profile_notice(profile: Profile, page: str | None) -> str | None:
    """What a reader on a GPU should know before a full-profile page starts: how long it is
    expected to take, and how to choose the quick profile instead. None in other profiles."""
    if profile.name != "full":
        return None
    minutes = FULL_PROFILE_T4_MINUTES.get(page or "")
    if minutes is None:
        expected = "quick 프로파일보다 훨씬 오래"
    elif minutes < 1:
        expected = "T4 GPU 한 대에서 1분 안쪽(추정치)"
    else:
        expected = f"T4 GPU 한 대에서 약 {minutes:.0f}분(추정치)"
    return (f"full 프로파일로 실행합니다. 이 페이지는 {expected} 걸립니다. 빠르게 훑어보려면 맨 위에 "
            f"`%env {PROFILE_ENV}=quick` 셀을 넣고 처음부터 다시 실행하세요.")


def setup_page(seed: int = 0, page: str | None = None) -> tuple[Profile, torch.device]:
    """The first lines of every chapter page: Korean fonts, seeds, profile and device
    (one CPU thread in the quick profile, for reproducible numbers). ``page`` (the file
    name without extension) lets a full-profile run say up front how long it will take.

    The page prints :func:`provenance` once it knows its data source.
    """
    setup_korean_font()
    seed_everything(seed)
    profile, device = get_profile(), get_device()
    notice = full_profile_notice(profile, page)
    if notice:
        print(notice)
    if device.type == "cpu" and profile.name == "quick":
        # One thread: the same numbers on every CPU machine whatever its core count (the
        # committed notebooks are compared against fresh runs), and no thread contention
        # on a busy 2-core machine, where two threads ran several times slower.
        torch.set_num_threads(1)
    return profile, device
