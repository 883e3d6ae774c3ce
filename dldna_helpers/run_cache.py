"""The cache of finished training runs and computed results: one module for the whole protocol.

:func:`training.train` calls :func:`open_run` once to look a run up and :meth:`RunSession.record`
once to record it; :func:`result_cache.cached` calls :func:`open_result` and
:meth:`ResultSession.record` the same way. Everything else happens here:

- **Keys derived from the call.** The key is the hash of a *request*, a JSON description of
  everything the call is given that decides its result (:mod:`.keys`): the starting weights and
  their dtype, the model's classes, attributes and hooks, the optimizer's class, hyperparameters
  and state, loss, scheduler, clipping, hooks, the loaders' data, batch size, shuffle and
  augmentation settings and generator state, epochs, the divergence threshold, the code that
  runs (read at call time) and the environment (torch, GPU, threads). A page's ``cache_config``
  is extra key material.
- **Hits verified against the call.** A run folder is used only if its manifest verifies
  itself (its own SHA-256), names this key and this request (a difference is reported line by
  line), lists exactly the epoch files its epoch count implies, every file matches its size
  and SHA-256, the stored starting weights equal the model's, and the random state the run
  consumed (loader generator, torch's, Python's, NumPy's) starts where the stored run started.
  Otherwise a :class:`CacheWarning` says why and the run is computed again (and replaces the
  folder). A hit loads weights, optimizer state and scheduler state and puts the random state
  where the fresh run left it, so the objects are exactly as a fresh run leaves them.
- **One commit per run.** Files are written to a staging folder and renamed into place once
  (:func:`storage.commit_folder`); a killed run leaves nothing a later run reads, and a
  finished run is never rewritten. A run that starts from another state of a random generator
  it consumes is stored beside the first as a variant.
- **No lost work.** A cache folder that cannot be written (full disk, read-only, missing
  permission, a misconfigured ``$DLDNA_CACHE_DIR``) gives a warning that names the folder and
  the fix; the computed result is returned uncached.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shlex
import shutil
import stat
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import torch

from . import keys
from .env import CACHE_ENV, CacheDirError, cache_dir
from .storage import (canonical_json, commit_folder, is_write_failure, loads_json, present, save_atomic,
                      staging_folder, write_problem)

CACHE_FORMAT = 3   # the layout below; part of every key, so older layouts are never read
MANIFEST = "manifest.json"
RUN_CODE = ("dldna_helpers.training", "dldna_helpers.data")   # what every run executes (+ what they import)


class CacheCorruptError(RuntimeError):
    """A cached entry is incomplete, damaged, of another format or made by another call; the
    message names the path."""


class CacheWarning(UserWarning):
    """A cached entry could not be used, or a result could not be stored; the message says why."""


# ------------------------------------------------------------------ keys
def code_fingerprint() -> str:
    """A hash of the source every run executes (:data:`RUN_CODE` and the package modules they
    import, read now: an edit is seen without restarting the kernel)."""
    return keys.digest({m: keys.module_fingerprint(m) for m in RUN_CODE})


def package_fingerprint() -> str:
    """A hash of every source file of the package (names and contents), read now: what a page's
    timing depends on (plots and prose included), unlike a cached result (:func:`code_fingerprint`)."""
    return keys.digest({p.relative_to(keys.PACKAGE_DIR).as_posix(): keys.file_digest(p)
                        for p in sorted(keys.PACKAGE_DIR.rglob("*.py"))})


def compute_fingerprint() -> dict[str, Any]:
    """What besides the inputs decides a result's numbers: the code (:func:`code_fingerprint`),
    torch and NumPy versions, GPU and CPU thread count (:func:`keys.environment`)."""
    return {"code": code_fingerprint(), **keys.environment()}


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
        return keys.tensor_digest(torch.from_numpy(np.ascontiguousarray(value)))
    if isinstance(value, torch.Tensor):
        return keys.tensor_digest(value)
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


def _float_safe(blob: Any) -> Any:
    """``blob`` with non-finite floats as ``{"$nonfinite": "nan"}`` (what :func:`keys.digest` accepts)."""
    if isinstance(blob, float) and not np.isfinite(blob):
        return {"$nonfinite": repr(blob)}
    if isinstance(blob, dict):
        return {k: _float_safe(v) for k, v in blob.items()}
    if isinstance(blob, list):
        return [_float_safe(v) for v in blob]
    return blob


def config_key(config: Mapping[str, Any]) -> str:
    """A short stable hash of a page's ``cache_config`` (:func:`canonical`) with the code and
    environment (:func:`compute_fingerprint`): the name under which the run last made with this
    configuration is found (:func:`run_dir`)."""
    blob = {"fingerprint": compute_fingerprint(), "cache_format": CACHE_FORMAT, **canonical(dict(config))}
    return keys.digest(_float_safe(blob))


def _index_file(config: Mapping[str, Any]) -> Path:
    return cache_dir("run-index") / f"{config_key(config)}.json"


def run_dir(config: Mapping[str, Any]) -> Path:
    """The folder of the run last made (or loaded) with ``cache_config=config``; before the
    first such run, the folder name the configuration alone would give (it does not exist)."""
    root = cache_dir("runs")
    index = _index_file(config)
    try:
        name = loads_json(index.read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError, AttributeError):
        name = None
    if isinstance(name, str) and name and "/" not in name and not name.startswith("."):
        return root / name
    return root / config_key(config)


def _remember_config(config: Mapping[str, Any] | None, folder: Path) -> None:
    """Point ``config``'s index entry at ``folder`` (best effort: the index only helps look-ups by
    configuration, :func:`training.load_checkpoints`)."""
    if config is None:
        return
    try:
        save_atomic({"key": folder.name}, _index_file(config))
    except (OSError, RuntimeError):
        pass


def fix_command(folder: Path) -> str:
    """The shell command that removes ``folder`` (quoted for any path)."""
    return f"rm -rf {shlex.quote(str(folder))}"


# ------------------------------------------------------------------ random state of a run
PARTS = ("loader", "python", "numpy", "cpu", "cuda")


def loader_generator(loader: Any) -> torch.Generator | None:
    """The generator a loader shuffles (and augments) with, if it exposes one (``TensorLoader`` does)."""
    gen = getattr(loader, "generator", None)
    return gen if isinstance(gen, torch.Generator) else None


def random_state(loader: Any = None) -> dict[str, Any]:
    """Every random state a computation may draw from: the loader's generator, Python's, NumPy's
    and torch's global ones (as tensors and numbers, so ``torch.load(weights_only=True)`` reads them)."""
    gen = loader_generator(loader)
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    name, state, pos, has_gauss, cached_gauss = np.random.get_state()
    py_version, py_state, py_gauss = random.getstate()
    return {"loader": None if gen is None else gen.get_state(),
            "python": [py_version, torch.tensor(py_state, dtype=torch.int64), py_gauss],
            "numpy": [name, torch.from_numpy(state.astype(np.int64)), pos, has_gauss, cached_gauss],
            "cpu": torch.get_rng_state(), "cuda": cuda}


def _state_bytes(state: Mapping[str, Any], part: str) -> bytes:
    value = state.get(part)
    if value is None:
        return b"-"
    if isinstance(value, list):
        return b"|".join(v.numpy().tobytes() if isinstance(v, torch.Tensor) else repr(v).encode() for v in value)
    return value.numpy().tobytes()


def used_parts(start: Mapping[str, Any], end: Mapping[str, Any]) -> list[str]:
    """The random states a computation consumed (changed): only these decide its result."""
    return [part for part in PARTS if _state_bytes(start, part) != _state_bytes(end, part)]


def state_digest(state: Mapping[str, Any], parts: Iterable[str]) -> str:
    """A short hash of the ``parts`` of a :func:`random_state`."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() + b"\0" + _state_bytes(state, part))
    return digest.hexdigest()[:16]


def restore_random_state(loader: Any, state: Mapping[str, Any], parts: Iterable[str]) -> None:
    """Put the ``parts`` of the random state back as they were when the cached computation finished."""
    parts = set(parts)
    gen = loader_generator(loader)
    if "loader" in parts and gen is not None and state.get("loader") is not None:
        gen.set_state(state["loader"])
    if "python" in parts:
        version, values, gauss = state["python"]
        random.setstate((int(version), tuple(int(v) for v in values.tolist()), gauss))
    if "numpy" in parts:
        name, values, pos, has_gauss, cached_gauss = state["numpy"]
        np.random.set_state((name, values.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached_gauss)))
    if "cpu" in parts:
        torch.set_rng_state(state["cpu"])
    if "cuda" in parts and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ------------------------------------------------------------------ files of an entry
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _self_hash(manifest: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json({k: v for k, v in manifest.items() if k != "self_sha256" and not k.startswith("__")})).hexdigest()


class RunWriter:
    """Collects an entry's files in a staging folder; :meth:`commit` publishes them together."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.folder = staging_folder(final)

    def save(self, obj: Any, name: str) -> None:
        save_atomic(obj, self.folder / name)

    def commit(self, manifest: Mapping[str, Any], *, replace: bool = False, final: Path | None = None) -> bool:
        """Write the manifest (sizes and hashes of every file, and its own hash) and move the folder
        into place (``final``, default the folder given at creation: a sibling of it).

        Returns ``False`` when another process committed the same entry first: that finished entry
        is kept untouched (computations are deterministic, so both hold the same result)."""
        files = {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
                 for p in sorted(self.folder.iterdir()) if not p.name.startswith(".")}
        blob = {"format": CACHE_FORMAT, **manifest, "files": files}
        blob["self_sha256"] = _self_hash(blob)
        save_atomic(blob, self.folder / MANIFEST)
        return commit_folder(self.folder, final or self.final, replace=replace)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


RUN_FIELDS = ("files", "key", "request", "epochs", "diverged", "random_start")
RESULT_FIELDS = ("files", "key", "request", "random_start", "classes")


def _unreadable(path: Path, err: OSError) -> CacheCorruptError:
    if isinstance(err, PermissionError):
        return CacheCorruptError(f"{path} cannot be read (permission denied): give yourself read access "
                                 f"(`chmod -R u+rwX {shlex.quote(str(path.parent))}`) or remove it")
    return CacheCorruptError(f"{path} cannot be read ({write_problem(err)})")


def read_manifest(folder: Path, required: Iterable[str] = RUN_FIELDS) -> dict[str, Any]:
    """The checked manifest of a committed entry: valid JSON, its own hash, this format and the
    ``required`` fields; :class:`CacheCorruptError` names what is wrong."""
    path = folder / MANIFEST
    try:
        mode = os.lstat(folder).st_mode
    except OSError as err:
        raise _unreadable(folder, err) from err
    if not stat.S_ISDIR(mode):
        raise CacheCorruptError(f"cached entry {folder} is not a folder (a file or a symbolic link put there "
                                "by hand)")
    if not path.exists():
        leftovers = sorted(p.name for p in folder.glob("*"))
        what = f"holds {', '.join(leftovers[:4])}{'…' if len(leftovers) > 4 else ''} but no" if leftovers else "has no"
        raise CacheCorruptError(f"cached entry {folder} {what} {MANIFEST}: it is incomplete (killed, or "
                                "written by an older version of dldna_helpers)")
    try:
        manifest = loads_json(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise _unreadable(path, err) from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CacheCorruptError(f"{path} is not valid JSON ({err})") from err
    if not isinstance(manifest, dict) or manifest.get("format") != CACHE_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise CacheCorruptError(f"{path} has cache format {found!r}, expected {CACHE_FORMAT}")
    if manifest.get("self_sha256") != _self_hash(manifest):
        raise CacheCorruptError(f"{path} was changed after it was written (its own SHA-256 does not match: "
                                "edited by hand, or damaged)")
    for key in required:
        if key not in manifest:
            raise CacheCorruptError(f"{path} lacks the field {key!r}")
    if not isinstance(manifest["files"], dict):
        raise CacheCorruptError(f"{path}: 'files' is not a listing")
    return manifest


def verified_path(folder: Path, manifest: Mapping[str, Any], name: str) -> Path:
    """``folder/name`` after checking its size and hash against the manifest."""
    path = folder / name
    verified = manifest.setdefault("__verified__", set()) if isinstance(manifest, dict) else set()
    if name in verified:
        return path
    expected = manifest["files"].get(name)
    if expected is None:
        raise CacheCorruptError(f"{folder / MANIFEST} does not list {name}")
    if not path.exists():
        raise CacheCorruptError(f"{path} is missing")
    try:
        same = path.stat().st_size == expected["bytes"] and _sha256(path) == expected["sha256"]
    except OSError as err:
        raise _unreadable(path, err) from err
    if not same:
        raise CacheCorruptError(f"{path} is damaged: its size or SHA-256 differs from {MANIFEST}")
    verified.add(name)
    return path


def verify_all(folder: Path, manifest: Mapping[str, Any]) -> None:
    """Check every file the manifest lists (an entry is used whole or not at all)."""
    for name in manifest["files"]:
        verified_path(folder, manifest, name)


def load_tensor_file(folder: Path, manifest: Mapping[str, Any], name: str, safe: Iterable[Any] = ()) -> Any:
    """A verified file read with ``torch.load(weights_only=True)`` (``safe``: extra allowed classes)."""
    path = verified_path(folder, manifest, name)
    try:
        with torch.serialization.safe_globals(list(safe)):
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


def final_file(manifest: Mapping[str, Any]) -> str:
    """The weights a run ended with: derived from its epoch count, never stored separately."""
    return "stopped.pt" if manifest["diverged"] else f"epoch_{manifest['epochs']}.pt"


def epoch_files(manifest: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The per-epoch checkpoints ``epoch_0.pt`` … ``epoch_E.pt`` of a run, after checking that the
    manifest lists exactly these (E = its epoch count)."""
    names = sorted(n for n in manifest["files"] if n.startswith("epoch_") and n.endswith(".pt"))
    epochs = manifest["epochs"]
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        raise CacheCorruptError(f"{MANIFEST} records {epochs!r} epochs")
    expected = sorted(f"epoch_{e}.pt" for e in range(epochs + 1))
    if names != expected:
        missing, extra = sorted(set(expected) - set(names)), sorted(set(names) - set(expected))
        raise CacheCorruptError(f"{MANIFEST} of a {epochs}-epoch run lists epoch files {names}: "
                                f"missing {missing}, unexpected {extra}")
    if manifest["diverged"] and "stopped.pt" not in manifest["files"]:
        raise CacheCorruptError(f"{MANIFEST} of a diverged run does not list stopped.pt")
    return [(e, f"epoch_{e}.pt") for e in range(epochs + 1)]


def entry_folder(source: Any, kind: str = "runs") -> Path:
    """The folder of a run given by a history (``history.run_key``), a key, or a ``cache_config``."""
    key = getattr(source, "run_key", None)
    if key is None and isinstance(source, str):
        key = source
    if key is not None:
        return cache_dir(kind) / key
    if isinstance(source, Mapping):
        return run_dir(source)
    raise TypeError(f"expected a History of a cached run, a run key or a cache_config dict, got {type(source).__name__}"
                    + (" (this run was not cached: train it with cache=True)" if hasattr(source, "from_cache") else ""))


def _check_request(folder: Path, manifest: Mapping[str, Any], key: str, request: Any) -> None:
    """The stored entry was made by this call: its key is the folder's and its request is ours."""
    if manifest["key"] != folder.name.split(".")[0] or manifest["key"] != key:
        raise CacheCorruptError(f"{folder / MANIFEST} belongs to entry {manifest['key']}, not to {key} "
                                "(folders moved or swapped)")
    if manifest["request"] != request:
        lines = keys.differences(manifest["request"], request, "request")
        raise CacheCorruptError(f"{folder} was made by another call; what differs (stored → now): "
                                + "; ".join(lines))


# ------------------------------------------------------------------ sessions (the protocol)
def _warn(message: str, stacklevel: int = 4) -> None:
    warnings.warn(message, CacheWarning, stacklevel=stacklevel)


def _cannot_store(err: BaseException, where: Path | None) -> str:
    place = f"in {where.parent}" if where is not None else "in the cache folder"
    return (f"the result could not be stored {place} ({write_problem(err, where)}); it is returned without caching "
            f"and will be computed again next time. Free some space, or point {CACHE_ENV} at a writable "
            "folder with room")


@dataclass
class _Session:
    """What both kinds of entries share: key, request, random start, staging and commit."""

    kind: str
    key: str
    request: Any
    config: Any
    loader: Any
    start: dict[str, Any]
    folder: Path | None = None
    replace: bool = False
    writer: RunWriter | None = None
    disabled: bool = False
    current: Path | None = None        # the folder being examined (the one replaced if it is damaged)
    existing_start: str | None = None  # the random start of the entry at ``folder``, if another one
    _warned: bool = field(default=False, repr=False)

    # ---------------------------------------------------------------- lookup
    def _open(self) -> None:
        try:
            root = cache_dir(self.kind)
        except CacheDirError as err:
            self._disable(f"{err} Computing without the cache.")
            return
        self.folder = root / self.key

    def _candidates(self, required: Iterable[str]) -> tuple[Path, dict[str, Any]] | None:
        """The verified manifest of the entry that fits this call and its random start, or None."""
        folder = self.folder
        for _ in range(2):   # the entry itself, then the variant for this random start
            self.current = folder
            if not present(folder):
                return None
            manifest = read_manifest(folder, required)
            _check_request(folder, manifest, self.key, self.request)
            recorded = require_fields(manifest["random_start"], ("uses", "digest"), folder / MANIFEST)
            uses = [p for p in recorded["uses"] if p in PARTS]
            if state_digest(self.start, uses) == recorded["digest"]:
                verify_all(folder, manifest)
                return folder, manifest
            if folder == self.folder:
                self.existing_start = recorded["digest"]
            folder = self.folder.with_name(f"{self.key}.{state_digest(self.start, uses)}")
        return None

    def _lookup(self, required: Iterable[str], hit: Callable[[Path, dict[str, Any]], None]) -> None:
        """Find the entry of this call and hand it to ``hit`` (which loads it), or prepare to record:
        a damaged or mismatched entry is reported and will be replaced."""
        self._open()
        if self.folder is None:
            return
        try:
            found = self._candidates(required)
            if found is not None:
                hit(*found)
                return
        except CacheCorruptError as err:
            self._damaged(err)
        self._stage()

    def _damaged(self, err: CacheCorruptError) -> None:
        _warn(f"{err}; computing it again and replacing {self.current}", stacklevel=5)
        self.replace = True

    def _stage(self) -> None:
        if self.disabled or self.folder is None:
            return
        try:
            self.writer = RunWriter(self.folder)
        except (OSError, RuntimeError) as err:
            if not is_write_failure(err):
                raise
            self._disable(_cannot_store(err, self.folder))

    def _disable(self, message: str) -> None:
        self.disabled = True
        if self.writer is not None:
            self.writer.discard()
            self.writer = None
        if not self._warned:
            self._warned = True
            _warn(message, stacklevel=6)

    # ---------------------------------------------------------------- writing
    def save(self, obj: Any, name: str) -> None:
        """Stage one file of the entry (a failed write disables caching, with a warning)."""
        if self.writer is None:
            return
        try:
            self.writer.save(obj, name)
        except (OSError, RuntimeError) as err:
            if not is_write_failure(err):
                raise
            self._disable(_cannot_store(err, self.folder))

    def _commit(self, manifest: dict[str, Any], uses: list[str]) -> Path | None:
        if self.writer is None:
            return None
        target = self.current if self.replace else self.folder
        start_digest = state_digest(self.start, uses)
        if not self.replace and self.existing_start is not None and self.existing_start != start_digest:
            target = self.folder.with_name(f"{self.key}.{start_digest}")   # a variant beside the entry
        manifest = {"key": self.key, "request": self.request, "config": self.config,
                    "random_start": {"uses": uses, "digest": start_digest}, **manifest}
        try:
            self.writer.commit(manifest, replace=self.replace, final=target)
        except (OSError, RuntimeError) as err:
            if not is_write_failure(err):
                raise
            self._disable(_cannot_store(err, target))
            return None
        finally:
            self.close()
        return target

    def close(self) -> None:
        """Remove what an interrupted or failed computation staged (nothing half-written stays)."""
        if self.writer is not None and self.writer.folder.exists():
            self.writer.discard()
        self.writer = None


@dataclass
class RunSession(_Session):
    """A training run being looked up or recorded (:func:`open_run`)."""

    model: Any = None
    optimizer: Any = None
    scheduler: Any = None
    config_raw: Any = None
    history: Any = None   # the cached History on a hit, else None

    def record(self, history: Any, records: Mapping[str, Any] | None = None) -> None:
        """Publish the finished run: checkpoints staged during the loop, the records (JSON,
        read back with :func:`training.load_record`), optimizer and scheduler state, the final
        random state, the history and the manifest, in one commit."""
        if self.writer is None:
            return
        for name, record in (records or {}).items():
            self.save(record, f"{name}.json")
        self.save(self.optimizer.state_dict(), "optimizer.pt")
        if self.scheduler is not None and hasattr(self.scheduler, "state_dict"):
            self.save(self.scheduler.state_dict(), "scheduler.pt")
        end = random_state(self.loader)
        uses = used_parts(self.start, end)
        self.save(end, "random_state.pt")
        self.save(history.to_json(), "history.json")
        if history.diverged:
            self.save(self.model.state_dict(), "stopped.pt")
        target = self._commit({"epochs": history.epochs, "diverged": bool(history.diverged),
                               "optimizer": type(self.optimizer).__qualname__,
                               "scheduler": None if self.scheduler is None else type(self.scheduler).__qualname__},
                              uses)
        if target is not None:
            history.run_key = target.name
            _remember_config(self.config_raw, target)

    def _load(self, folder: Path, manifest: dict[str, Any], history_type: Any) -> Any:
        epoch_files(manifest)
        blob = load_json_file(folder, manifest, "history.json")
        try:
            history = history_type.from_json(blob)
        except (ValueError, TypeError) as err:
            raise CacheCorruptError(f"{folder / 'history.json'}: {err}") from err
        if history.epochs != manifest["epochs"] or bool(history.diverged) != manifest["diverged"]:
            raise CacheCorruptError(f"{folder / 'history.json'} records {history.epochs} epochs, "
                                    f"{MANIFEST} {manifest['epochs']}")
        start = load_tensor_file(folder, manifest, "epoch_0.pt")
        _same_weights(start, self.model.state_dict(), folder / "epoch_0.pt")
        weights = load_tensor_file(folder, manifest, final_file(manifest))
        optimizer_state = load_tensor_file(folder, manifest, "optimizer.pt")
        scheduler_state = None
        if self.scheduler is not None and hasattr(self.scheduler, "load_state_dict"):
            scheduler_state = load_tensor_file(folder, manifest, "scheduler.pt")
        random_end = load_tensor_file(folder, manifest, "random_state.pt")
        model_before = {k: v.clone() for k, v in self.model.state_dict().items()}
        optimizer_before = _deepcopy_state(self.optimizer.state_dict())
        try:
            self.model.load_state_dict(weights)
            self.optimizer.load_state_dict(optimizer_state)
            if scheduler_state is not None:
                self.scheduler.load_state_dict(scheduler_state)
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
            # a failed load may have copied some tensors already: the recomputed run must start clean
            self.model.load_state_dict(model_before)
            self.optimizer.load_state_dict(optimizer_before)
            raise CacheCorruptError(f"{folder} does not fit this model, optimizer or scheduler ({err})") from err
        restore_random_state(self.loader, random_end, manifest["random_start"]["uses"])
        history.from_cache = True
        history.run_key = folder.name
        return history


def _deepcopy_state(state: Any) -> Any:
    import copy

    return copy.deepcopy(state)


def _same_weights(stored: Mapping[str, torch.Tensor], current: Mapping[str, torch.Tensor], path: Path) -> None:
    """The stored starting weights are the model's now (names, dtypes and values)."""
    if not isinstance(stored, Mapping) or list(stored) != list(current):
        raise CacheCorruptError(f"{path} holds other parameter names than the model")
    for name, value in current.items():
        old = stored[name]
        if old.dtype != value.dtype or old.shape != value.shape or not torch.equal(old, value.detach().cpu()):
            raise CacheCorruptError(f"{path}: the stored starting weights differ from the model's at {name!r} "
                                    f"({old.dtype}{list(old.shape)} stored, {value.dtype}{list(value.shape)} now)")


def describe_run(*, model: Any, optimizer: Any, scheduler: Any, train_loader: Any, test_loader: Any,
                 epochs: int, device: Any, settings: Mapping[str, Any], config: Any) -> dict[str, Any]:
    """The request of a training run: everything :func:`training.train` is given that decides its result."""
    d = keys._Describer(strict=False)
    names = {id(p): n for n, p in model.named_parameters()}
    return {
        "kind": "train",
        "cache_format": CACHE_FORMAT,
        "fingerprint": compute_fingerprint(),
        "device": str(device),
        "model": d.module(model, "model"),
        "optimizer": d.optimizer(optimizer, "optimizer", names),
        "scheduler": None if scheduler is None else d.value(scheduler, "scheduler"),
        "train_data": d.value(train_loader, "train_loader"),
        "test_data": d.value(test_loader, "test_loader"),
        "epochs": epochs,
        "settings": {k: d.value(v, k) for k, v in sorted(settings.items())},
        "config": config,
    }


def open_run(*, model: Any, optimizer: Any, scheduler: Any, train_loader: Any, test_loader: Any, epochs: int,
             device: Any, settings: Mapping[str, Any], cache_config: Mapping[str, Any] | None,
             history_type: Any) -> RunSession:
    """Look a run up: a :class:`RunSession` whose ``history`` is the cached run's (already loaded
    into ``model``, ``optimizer`` and ``scheduler``, with the random state restored), or ``None``
    with a staging folder ready for the loop's checkpoints (:meth:`RunSession.save`) and
    :meth:`RunSession.record`."""
    config = _float_safe(canonical(dict(cache_config))) if cache_config is not None else None
    request = describe_run(model=model, optimizer=optimizer, scheduler=scheduler, train_loader=train_loader,
                           test_loader=test_loader, epochs=epochs, device=device, settings=settings, config=config)
    session = RunSession(kind="runs", key=keys.digest(request), request=request, config=config,
                         loader=train_loader, start=random_state(train_loader), model=model, optimizer=optimizer,
                         scheduler=scheduler, config_raw=cache_config)
    def hit(folder: Path, manifest: dict[str, Any]) -> None:
        session.history = session._load(folder, manifest, history_type)
        _remember_config(cache_config, folder)

    session._lookup(RUN_FIELDS, hit)
    return session


# ------------------------------------------------------------------ results (result_cache.cached)
_NUMPY_GLOBALS = {"numpy._core.multiarray._reconstruct", "numpy.core.multiarray._reconstruct", "numpy.ndarray",
                  "numpy.dtype", "numpy._core.multiarray.scalar", "numpy.core.multiarray.scalar"}


def _resolve(name: str) -> Any:
    """The class or function called ``name`` (``module.Qual.name``) in this process, or None."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is None:
            continue
        obj = module
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _allowed_global(name: str) -> Any:
    """The object a stored result may name (NumPy arrays and plain dataclasses), or None."""
    import dataclasses

    obj = _resolve(name)
    if name in _NUMPY_GLOBALS or (name.startswith("numpy.dtypes.") and not name.endswith("ObjectDType")):
        return obj
    if isinstance(obj, type) and dataclasses.is_dataclass(obj) and not any(
            m in vars(obj) for m in ("__reduce__", "__reduce_ex__", "__setstate__")):
        return obj
    return None


def result_classes(buffer: bytes) -> list[str]:
    """The names a serialized result needs beyond tensors and plain containers; a TypeError says
    which are not allowed."""
    import io

    names = torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(buffer))
    refused = [n for n in names if _allowed_global(n) is None]
    if refused:
        raise TypeError(f"cached(): the result holds {', '.join(refused)}, which cannot be stored safely. Return "
                        "tensors, NumPy arrays, numbers, strings, None, dataclasses, or lists/tuples/dicts of them")
    return sorted(names)


def safe_objects(classes: Iterable[str]) -> list[Any]:
    """The objects ``torch.load(weights_only=True)`` must allow to read a result naming ``classes``
    (with NumPy arrays: NumPy's numeric dtype classes, which the file names only indirectly)."""
    objects = []
    for name in classes:
        obj = _allowed_global(name)
        if obj is None:
            raise CacheCorruptError(f"a stored result names {name}, which is not defined here or not allowed")
        objects.append(obj)
    if any(name.startswith("numpy.") for name in classes):
        objects += [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith("DType") and n != "ObjectDType"]
    return objects


@dataclass
class ResultSession(_Session):
    """A computed result being looked up or recorded (:func:`open_result`)."""

    value: Any = None
    found: bool = False

    def record(self, value: Any, classes: list[str]) -> None:
        """Publish the result with the final random state, in one commit."""
        if self.writer is None:
            return
        end = random_state()
        uses = used_parts(self.start, end)
        self.save(value, "result.pt")
        self.save(end, "random_state.pt")
        self._commit({"classes": classes}, uses)

    def _load(self, folder: Path, manifest: dict[str, Any]) -> Any:
        value = load_tensor_file(folder, manifest, "result.pt", safe_objects(manifest["classes"]))
        random_end = load_tensor_file(folder, manifest, "random_state.pt")
        restore_random_state(None, random_end, manifest["random_start"]["uses"])
        return value


def open_result(request: Any, config: Any) -> ResultSession:
    """Look a computed result up by its request (:mod:`.result_cache`): ``found`` and ``value`` on a
    hit (random state restored), else a session ready for :meth:`ResultSession.record`."""
    session = ResultSession(kind="results", key=keys.digest(request), request=request, config=config, loader=None,
                            start=random_state())
    def hit(folder: Path, manifest: dict[str, Any]) -> None:
        session.value, session.found = session._load(folder, manifest), True

    session._lookup(RESULT_FIELDS, hit)
    return session
