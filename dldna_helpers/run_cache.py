"""The cache of finished training runs: keys, one commit per run, verified reads.

A run's folder ``runs/<key>/`` is filled under a temporary name and renamed into place once
it is complete (:func:`storage.commit_folder`), so a killed run leaves nothing a later run
reads, and a finished run is never rewritten. ``manifest.json`` (written last) names every
file of the run with its size and SHA-256, the format version and the random state the run
started from; a read checks all of it, and a folder that fails the check is reported with
its path (:class:`CacheCorruptError`) so that :func:`training.train` can warn and recompute.
"""
from __future__ import annotations

import functools
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import torch

from .env import cache_dir
from .storage import commit_folder, loads_json, save_atomic, staging_folder

CACHE_FORMAT = 2   # the layout below; part of every key, so older layouts are never read
MANIFEST = "manifest.json"


class CacheCorruptError(RuntimeError):
    """A cached run is incomplete, damaged or of another format; the message names the path."""


class CacheWarning(UserWarning):
    """A cached run could not be used (damaged, or started from another random state) and is recomputed."""


# ------------------------------------------------------------------ keys
def source_hash(package: Path) -> str:
    """A short hash of every ``.py`` file under ``package`` (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def code_fingerprint() -> str:
    """The source hash of this package: results are reused only by the code that made them."""
    return source_hash(Path(__file__).resolve().parent)


def compute_fingerprint() -> dict[str, Any]:
    """What besides the configuration decides a run's numbers: the helper code, the torch
    version and, on the CPU, the thread count (it changes the order of float sums)."""
    return {
        "code": code_fingerprint(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "threads": torch.get_num_threads(),
    }


def _tensor_digest(t: torch.Tensor) -> dict[str, Any]:
    flat = t.detach().cpu().contiguous().reshape(-1)
    raw = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
    return {"$tensor": str(t.dtype), "shape": list(t.shape), "sha256": hashlib.sha256(raw).hexdigest()}


def canonical(value: Any, where: str = "cache_config") -> Any:
    """``value`` as plain JSON that identifies it exactly: tensors and arrays by dtype, shape and
    a hash of their bytes, numpy scalars as numbers. Anything else that is not JSON (a lambda,
    an object whose ``str`` changes from process to process or hides its content) is refused."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return canonical(value.item(), where)
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError(f"{where}: an object array cannot be hashed by content; use numbers")
        return _tensor_digest(torch.from_numpy(np.ascontiguousarray(value)))
    if isinstance(value, torch.Tensor):
        return _tensor_digest(value)
    if isinstance(value, Mapping):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise TypeError(f"{where}: keys must be strings, got {bad[0]!r}")
        return {k: canonical(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(
        f"{where} = {value!r} ({type(value).__name__}) cannot be part of a cache key: its text does "
        "not identify its content. Use JSON values (numbers, strings, lists, dicts), tensors or "
        "numpy arrays, e.g. a name and the hyperparameters instead of a function or an object."
    )


def config_key(config: Mapping[str, Any]) -> str:
    """A short stable hash of a run configuration (:func:`canonical`) and of the code and
    environment that compute it (:func:`compute_fingerprint`), so a cache written by an
    older version of the helpers or with another thread count is never read back."""
    blob = {"fingerprint": compute_fingerprint(), "cache_format": CACHE_FORMAT, **canonical(dict(config))}
    text = json.dumps(blob, sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_dir(config: Mapping[str, Any]) -> Path:
    """The cache folder of one run configuration."""
    return cache_dir("runs") / config_key(config)


# ------------------------------------------------------------------ random state of a run
def loader_generator(loader: Any) -> torch.Generator | None:
    """The generator a loader shuffles (and augments) with, if it exposes one (``TensorLoader`` does)."""
    gen = getattr(loader, "generator", None)
    return gen if isinstance(gen, torch.Generator) else None


def random_state(loader: Any) -> dict[str, Any]:
    """Every random state a run may draw from: the loader's generator and torch's global ones."""
    gen = loader_generator(loader)
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    return {"loader": None if gen is None else gen.get_state(), "cpu": torch.get_rng_state(), "cuda": cuda}


def _state_bytes(state: Mapping[str, Any], part: str) -> bytes:
    value = state[part]
    if value is None:
        return b"-"
    if isinstance(value, list):
        return b"".join(v.numpy().tobytes() for v in value)
    return value.numpy().tobytes()


def used_parts(start: Mapping[str, Any], end: Mapping[str, Any]) -> list[str]:
    """The random states a run consumed (changed): only these decide its result."""
    return [part for part in ("loader", "cpu", "cuda") if _state_bytes(start, part) != _state_bytes(end, part)]


def state_digest(state: Mapping[str, Any], parts: Iterable[str]) -> str:
    """A short hash of the ``parts`` of a :func:`random_state`."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() + b"\0" + _state_bytes(state, part))
    return digest.hexdigest()[:16]


def restore_random_state(loader: Any, state: Mapping[str, Any], parts: Iterable[str]) -> None:
    """Put the ``parts`` of the random state back as they were when the cached run finished."""
    parts = set(parts)
    gen = loader_generator(loader)
    if "loader" in parts and gen is not None and state["loader"] is not None:
        gen.set_state(state["loader"])
    if "cpu" in parts:
        torch.set_rng_state(state["cpu"])
    if "cuda" in parts and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ------------------------------------------------------------------ writing a run
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class RunWriter:
    """Collects a run's files in a staging folder; :meth:`commit` publishes them together."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.folder = staging_folder(final)

    def save(self, obj: Any, name: str) -> None:
        save_atomic(obj, self.folder / name)

    def commit(self, manifest: Mapping[str, Any], *, replace: bool = False) -> bool:
        """Write the manifest (sizes and hashes of every file) and move the folder into place.

        Returns ``False`` when another process committed the same run first: that finished run
        is kept untouched (runs are deterministic, so both hold the same result)."""
        files = {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
                 for p in sorted(self.folder.iterdir()) if not p.name.startswith(".")}
        save_atomic({"format": CACHE_FORMAT, **manifest, "files": files}, self.folder / MANIFEST)
        return commit_folder(self.folder, self.final, replace=replace)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


# ------------------------------------------------------------------ reading a run
RUN_FIELDS = ("files", "final", "epochs", "random_start")


def read_manifest(folder: Path, required: Iterable[str] = RUN_FIELDS) -> dict[str, Any]:
    """The checked manifest of a committed run (which must have the ``required`` fields);
    :class:`CacheCorruptError` names what is wrong."""
    path = folder / MANIFEST
    if not path.exists():
        leftovers = sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []
        what = f"holds {', '.join(leftovers[:4])}{'…' if len(leftovers) > 4 else ''} but no" if leftovers else "has no"
        raise CacheCorruptError(f"cached run {folder} {what} {MANIFEST}: it is incomplete (killed, or "
                                "written by an older version of dldna_helpers)")
    try:
        manifest = loads_json(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CacheCorruptError(f"{path} is not valid JSON ({err})") from err
    if not isinstance(manifest, dict) or manifest.get("format") != CACHE_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise CacheCorruptError(f"{path} has cache format {found!r}, expected {CACHE_FORMAT}")
    for key in required:
        if key not in manifest:
            raise CacheCorruptError(f"{path} lacks the field {key!r}")
    return manifest


def verified_path(folder: Path, manifest: Mapping[str, Any], name: str) -> Path:
    """``folder/name`` after checking its size and hash against the manifest."""
    path = folder / name
    expected = manifest["files"].get(name)
    if expected is None:
        raise CacheCorruptError(f"{folder / MANIFEST} does not list {name}")
    if not path.exists():
        raise CacheCorruptError(f"{path} is missing")
    if path.stat().st_size != expected["bytes"] or _sha256(path) != expected["sha256"]:
        raise CacheCorruptError(f"{path} is damaged: its size or SHA-256 differs from {MANIFEST}")
    return path


def verify_all(folder: Path, manifest: Mapping[str, Any]) -> None:
    """Check every file the manifest lists (a run is used whole or not at all)."""
    for name in manifest["files"]:
        verified_path(folder, manifest, name)


def load_tensor_file(folder: Path, manifest: Mapping[str, Any], name: str) -> Any:
    path = verified_path(folder, manifest, name)
    try:
        return torch.load(path, weights_only=True)
    except Exception as err:  # the hash matched, so this is a file torch cannot read back
        raise CacheCorruptError(f"{path} cannot be loaded ({type(err).__name__}: {err})") from err


def load_json_file(folder: Path, manifest: Mapping[str, Any], name: str) -> Any:
    path = verified_path(folder, manifest, name)
    try:
        return loads_json(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CacheCorruptError(f"{path} is not valid JSON ({err})") from err


def require_fields(blob: Any, fields: Iterable[str], path: Path) -> dict[str, Any]:
    """``blob`` as a dict that has every one of ``fields`` (a missing list is an error, not empty)."""
    if not isinstance(blob, dict):
        raise CacheCorruptError(f"{path} holds {type(blob).__name__}, expected a JSON object")
    missing = [f for f in fields if f not in blob]
    if missing:
        raise CacheCorruptError(f"{path} lacks the field(s) {', '.join(missing)}")
    return blob


def epoch_files(manifest: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The per-epoch checkpoints a manifest lists, in epoch order (numerically)."""
    names = [n for n in manifest["files"] if n.startswith("epoch_") and n.endswith(".pt")]
    return sorted((int(n[len("epoch_"):-len(".pt")]), n) for n in names)


def fix_command(folder: Path) -> str:
    return f"rm -rf '{folder}'"


