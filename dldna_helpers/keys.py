"""What a call depends on, written as plain JSON: the key material of the run and result caches.

:func:`describe` turns the objects a computation is given into JSON that identifies them:
tensors and arrays by dtype, shape and the SHA-256 of their bytes; a module by its class, its
attributes, hooks and every parameter and buffer; an optimizer by its class, hyperparameters and
state; a scheduler by its class and ``state_dict``; a loader by its data, batch size, shuffle
and augmentation settings and the state of its generator; functions and classes by
:func:`code_identity`. Two calls whose descriptions are equal compute the same result on the
same code; :func:`differences` names what differs between two descriptions (for warnings).

Code is identified when the call is made, not once per process, so a module edited and reloaded
in a running kernel (``%autoreload``) is seen:

- a function or class of this package by the source of its module and of the package modules
  it imports (:func:`module_fingerprint`), except modules that never change a computed number
  (messages, profiles, plotting, answer checkers: :data:`NO_NUMBERS`) — editing a Korean
  message in ``checkers.py`` does not invalidate a cached run;
- one defined in a notebook (or a file of the reader's own) by its bytecode, constants,
  defaults, closure and the globals it reads, described in turn (so a function that changes
  what it reads — a list it appends to — has another key next time: keep such state outside);
- one from an installed library by its name and the library's version.

Values whose content cannot be read (a lock, an iterator) are marked by their type, or refused
where the caller asks for strictness (the arguments of :func:`result_cache.cached`).
"""
from __future__ import annotations

import ast
import dataclasses
import dis
import enum
import functools
import hashlib
import importlib.metadata
import json
import math
import os
import sys
import sysconfig
import types
import weakref
from pathlib import Path, PurePath
from typing import Any, Iterable, Mapping

import numpy as np
import torch
from torch import nn

PACKAGE = __name__.rpartition(".")[0]            # "dldna_helpers"
PACKAGE_DIR = Path(__file__).resolve().parent
# Package modules whose edits never change a number a run or a cached computation produces:
# sizes (a run sees the sizes themselves, through its data), file plumbing, process management,
# sentences, plots and answer checkers. Leaving them out of the fingerprint keeps a cache valid
# across edits of messages and prose.
NO_NUMBERS = frozenset(f"{PACKAGE}.{name}" for name in (
    "env", "storage", "parallel", "report", "glue", "figures", "widgets", "checkers", "stats",
))
MAX_DEPTH = 12


class DescribeError(TypeError):
    """A value cannot be described faithfully; the message names where it was found."""


# ------------------------------------------------------------------ digests
def digest(blob: Any) -> str:
    """A short stable hash of JSON-able ``blob`` (keys sorted)."""
    text = json.dumps(blob, sort_keys=True, ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_TENSOR_MEMO: dict[int, tuple[tuple, weakref.ref, dict[str, Any]]] = {}


def _tensor_bytes_sha256(t: torch.Tensor) -> str:
    flat = t.detach()
    if flat.is_conj():
        flat = flat.resolve_conj()
    if flat.is_neg():
        flat = flat.resolve_neg()
    flat = flat.cpu().contiguous().reshape(-1)
    if flat.numel() == 0:
        return hashlib.sha256(b"").hexdigest()
    raw = flat.view(torch.uint8).numpy() if flat.dtype != torch.uint8 else flat.numpy()
    return hashlib.sha256(memoryview(raw)).hexdigest()


def tensor_digest(t: torch.Tensor) -> dict[str, Any]:
    """``{"$tensor": dtype, "shape": [...], "sha256": ...}`` of ``t``'s values. Remembered per tensor
    object while its version counter (bumped by every in-place change) and storage stay the same,
    so a data set of 200 MB is hashed once per process, not once per run."""
    if t.is_sparse or t.layout != torch.strided or t.device.type == "meta":
        if t.device.type == "meta":
            return {"$tensor": str(t.dtype), "shape": list(t.shape), "meta": True}
        t = t.to_dense()
    stamp = (t._version, t.data_ptr(), tuple(t.shape), tuple(t.stride()), t.storage_offset(), str(t.dtype),
             str(t.device))
    memo = _TENSOR_MEMO.get(id(t))
    if memo is not None and memo[0] == stamp and memo[1]() is t:
        return memo[2]
    result = {"$tensor": str(t.dtype), "shape": list(t.shape), "sha256": _tensor_bytes_sha256(t)}
    try:
        ref = weakref.ref(t, lambda _, key=id(t): _TENSOR_MEMO.pop(key, None))
    except TypeError:
        return result
    _TENSOR_MEMO[id(t)] = (stamp, ref, result)
    return result


def array_digest(a: np.ndarray) -> dict[str, Any]:
    if a.dtype == object:
        raise DescribeError("an object array cannot be hashed by content; use numbers")
    raw = np.ascontiguousarray(a)
    return {"$array": str(a.dtype), "shape": list(a.shape),
            "sha256": hashlib.sha256(memoryview(raw.reshape(-1).view(np.uint8))).hexdigest()}


_FILE_MEMO: dict[str, tuple[tuple, str]] = {}


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file, re-read whenever its size, modification time or inode changes."""
    path = str(path)
    st = os.stat(path)
    stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
    memo = _FILE_MEMO.get(path)
    if memo is not None and memo[0] == stamp:
        return memo[1]
    with open(path, "rb") as fh:
        value = hashlib.sha256(fh.read()).hexdigest()[:16]
    _FILE_MEMO[path] = (stamp, value)
    return value


# ------------------------------------------------------------------ code
def _package_file(module: str) -> Path | None:
    """The source file of package module ``module`` (``dldna_helpers.x.y``), if it exists."""
    rel = module.split(".")[1:]
    if not rel:
        return PACKAGE_DIR / "__init__.py"
    base = PACKAGE_DIR.joinpath(*rel)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


_IMPORTS_MEMO: dict[str, tuple[str, set[str]]] = {}


def _package_imports(module: str, path: Path) -> set[str]:
    """Package modules that ``module`` (at ``path``) imports, found in its source (parsed again
    only when the file changed)."""
    try:
        stamp = file_digest(path)
    except OSError:
        return set()
    memo = _IMPORTS_MEMO.get(module)
    if memo is not None and memo[0] == stamp:
        return memo[1]
    found = _parse_imports(module, path)
    _IMPORTS_MEMO[module] = (stamp, found)
    return found


def _parse_imports(module: str, path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return set()
    is_package = path.name == "__init__.py"
    parts = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith(PACKAGE):
                continue
            submodules = [f"{target}.{a.name}" for a in node.names if _package_file(f"{target}.{a.name}")]
            found.update(submodules)   # ``from . import training`` names modules, not the package
            if len(submodules) < len(node.names):
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(PACKAGE + "."))
    return {m for m in found if _package_file(m) is not None}


def package_closure(module: str) -> list[str]:
    """``module`` and the package modules it imports, transitively, minus :data:`NO_NUMBERS`."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen or name in NO_NUMBERS:
            continue
        path = _package_file(name)
        if path is None:
            continue
        seen.add(name)
        todo.extend(_package_imports(name, path))
    return sorted(seen)


def module_fingerprint(module: str) -> str:
    """A hash of the source of package module ``module`` and of the package modules it imports
    (:func:`package_closure`), read now."""
    parts = {name: file_digest(_package_file(name)) for name in package_closure(module)}
    return digest(parts)


def code_digest(code: types.CodeType) -> str:
    """A hash of what a code object does (bytecode, names, constants, nested code), not of where
    it was written (file name and line numbers are left out)."""
    h = hashlib.sha256()
    h.update(code.co_code)
    h.update(repr((code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars,
                   code.co_argcount, code.co_kwonlyargcount, code.co_flags & 0xFF)).encode())
    for const in code.co_consts:
        h.update(_const_text(const).encode() + b"\0")
    return h.hexdigest()[:16]


def _const_text(const: Any) -> str:
    if isinstance(const, types.CodeType):
        return "code:" + code_digest(const)
    if isinstance(const, frozenset):
        return "frozenset:" + repr(sorted(_const_text(c) for c in const))
    if isinstance(const, tuple):
        return "tuple:" + repr([_const_text(c) for c in const])
    return f"{type(const).__name__}:{const!r}"


def _global_names(code: types.CodeType) -> set[str]:
    names: set[str] = set()
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL"):
            names.add(ins.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


@functools.lru_cache(maxsize=None)
def _installed_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots |= {p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p)}
    return tuple(sorted(str(Path(r).resolve()) for r in roots if r))


@functools.lru_cache(maxsize=None)
def _distributions_of_modules() -> dict[str, list[str]]:
    # scans every installed distribution's file list: once per process, not once per library
    return importlib.metadata.packages_distributions()


@functools.lru_cache(maxsize=None)
def _library_version(top: str) -> str:
    try:
        dists = _distributions_of_modules().get(top) or [top]
        return f"{dists[0]}=={importlib.metadata.version(dists[0])}"
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return f"python {sys.version.split()[0]}"


def _source_of_module(module_name: str | None) -> dict[str, Any]:
    """How the code of ``module_name`` is identified: package source or library version. ``{}`` for
    code identified by its bytecode (a notebook's, ``__main__``, or a file of the reader's own)."""
    if not module_name or module_name == "__main__":
        return {}
    if module_name == PACKAGE or module_name.startswith(PACKAGE + "."):
        return {"source": module_fingerprint(module_name)}
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    top = module_name.split(".")[0]
    if file is None or top in sys.builtin_module_names:
        return {"version": _library_version(top)}
    if _is_installed(file):
        return {"version": _library_version(top)}
    return {}   # a file of the reader's own: identified by its code, as a notebook's


def _is_installed(file: str) -> bool:
    """Whether ``file`` belongs to an installed library: under the interpreter's library folders
    or in any ``site-packages``/``dist-packages`` folder, before or after resolving links (a
    library linked in from another environment, as the Colab-like test does with torch, would
    otherwise be described by its globals: the whole of torch, for minutes and gigabytes)."""
    forms = {str(Path(file).absolute()), str(Path(file).resolve())}
    if any(part in ("site-packages", "dist-packages") for form in forms for part in Path(form).parts):
        return True
    return any(form.startswith(root + os.sep) for form in forms for root in _installed_roots())


class _Describer:
    """One description: remembers what is being described (cycles) and how strict to be."""

    def __init__(self, strict: bool, deep_globals: bool = True) -> None:
        self.strict, self.deep_globals = strict, deep_globals
        self.path: set[int] = set()
        self.code_done: dict[int, Any] = {}

    # -------------------------------------------------------------- failures
    def opaque(self, value: Any, where: str, why: str = "") -> Any:
        if self.strict:
            raise DescribeError(
                f"{where} = {type(value).__module__}.{type(value).__qualname__} cannot be described by "
                f"content{': ' + why if why else ''}. Pass what the result depends on as numbers, "
                "strings, tensors, arrays, modules, dataclasses or functions.")
        return {"$opaque": f"{type(value).__module__}.{type(value).__qualname__}"}

    # -------------------------------------------------------------- code
    def code(self, obj: Any, where: str) -> Any:
        """How a function, method, class or callable object is identified (module docstring)."""
        key = id(obj)
        if key in self.code_done:
            return self.code_done[key]
        self.code_done[key] = {"$recursive": getattr(obj, "__qualname__", type(obj).__qualname__)}
        result = self._code(obj, where)
        self.code_done[key] = result
        return result

    def _code(self, obj: Any, where: str) -> Any:
        if isinstance(obj, functools.partial):
            return {"$partial": self.code(obj.func, where), "args": self.value(list(obj.args), f"{where}.args"),
                    "kwargs": self.value(dict(obj.keywords), f"{where}.keywords")}
        if isinstance(obj, types.MethodType):
            owner = obj.__self__
            cls = owner if isinstance(owner, type) else type(owner)
            return {"$method": obj.__func__.__name__, "of": self.code(cls, where),
                    "function": self.code(obj.__func__, where)}
        if isinstance(obj, types.FunctionType):
            return self._function(obj, where)
        if isinstance(obj, type):
            return self._class(obj, where)
        if isinstance(obj, (types.BuiltinFunctionType, types.BuiltinMethodType, types.WrapperDescriptorType,
                            types.MethodDescriptorType, types.MethodWrapperType)):
            module = getattr(obj, "__module__", None) or type(getattr(obj, "__self__", None)).__module__
            return {"$code": f"{module}.{getattr(obj, '__qualname__', obj.__name__)}",
                    **_source_of_module(module if module != "builtins" else "sys")}
        if callable(obj):   # an instance with __call__: its class and its state
            return {"$callable": self._class(type(obj), where), "state": self.attributes(obj, where, lenient=True)}
        return self.opaque(obj, where, "not callable code")

    def _function(self, fn: types.FunctionType, where: str) -> Any:
        module = fn.__module__
        name = f"{module}.{fn.__qualname__}"
        source = _source_of_module(module)
        blob: dict[str, Any] = {"$code": name, **source} if source else {"$code": name,
                                                                          "bytecode": code_digest(fn.__code__)}
        if fn.__defaults__:
            blob["defaults"] = self.value(list(fn.__defaults__), f"{where} (defaults)", lenient=True)
        if fn.__kwdefaults__:
            blob["kwdefaults"] = self.value(dict(fn.__kwdefaults__), f"{where} (keyword defaults)", lenient=True)
        if fn.__closure__:
            cells = {}
            for var, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                try:
                    content = cell.cell_contents
                except ValueError:   # an empty cell (a name assigned later)
                    continue
                cells[var] = self.value(content, f"{where} → {var}", lenient=True)
            blob["closure"] = cells
        if self.deep_globals and not source:   # a package's or library's globals are its own source
            globs = {}
            for var in sorted(_global_names(fn.__code__)):
                if var in fn.__globals__:
                    globs[var] = self.value(fn.__globals__[var], f"{where} → global {var!r}", lenient=True)
            if globs:
                blob["globals"] = globs
        return blob

    def _class(self, cls: type, where: str) -> Any:
        name = f"{cls.__module__}.{cls.__qualname__}"
        source = _source_of_module(cls.__module__)
        if source:
            return {"$class": name, **source}
        methods = {}
        for attr, member in sorted(vars(cls).items()):
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if isinstance(member, property):
                member = member.fget
            if isinstance(member, types.FunctionType):
                methods[attr] = self._function(member, f"{where}.{attr}")
        bases = [self.code(b, where) for b in cls.__bases__ if b is not object]
        return {"$class": name, "methods": methods, "bases": bases}

    # -------------------------------------------------------------- values
    def value(self, v: Any, where: str, lenient: bool = False, depth: int = 0) -> Any:
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else {"$nonfinite": repr(v)}
        if isinstance(v, enum.Enum):
            return {"$enum": f"{type(v).__qualname__}.{v.name}"}
        if isinstance(v, np.generic):
            return self.value(v.item(), where, lenient, depth)
        if isinstance(v, torch.Tensor):
            return tensor_digest(v)
        if isinstance(v, np.ndarray):
            try:
                return array_digest(v)
            except DescribeError as err:
                return self.opaque(v, where, str(err)) if not lenient else {"$opaque": "object array"}
        if isinstance(v, (torch.dtype, torch.device, torch.layout, torch.memory_format)):
            return {"$torch": str(v)}
        if isinstance(v, torch.Size):
            return list(v)
        if isinstance(v, torch.Generator):
            return {"$generator": str(v.device), "state": tensor_digest(v.get_state())["sha256"]}
        if isinstance(v, (PurePath, complex, bytes, range, slice)):
            return {"$" + type(v).__name__: repr(v)}
        if isinstance(v, types.ModuleType):
            return {"$module": v.__name__}
        if depth > MAX_DEPTH:
            return self.opaque(v, where, "nested too deeply") if not lenient else {"$opaque": "deep"}
        if id(v) in self.path:
            return {"$cycle": type(v).__qualname__}
        self.path.add(id(v))
        try:
            return self._container(v, where, lenient, depth + 1)
        finally:
            self.path.discard(id(v))

    def _container(self, v: Any, where: str, lenient: bool, depth: int) -> Any:
        if isinstance(v, Mapping):
            if all(isinstance(k, str) for k in v):
                return {k: self.value(x, f"{where}[{k!r}]", lenient, depth) for k, x in v.items()}
            items = [[self.value(k, f"{where} key", lenient, depth), self.value(x, f"{where}[{k!r}]", lenient, depth)]
                     for k, x in v.items()]
            return {"$items": sorted(items, key=lambda kv: json.dumps(kv, sort_keys=True))}
        if isinstance(v, (list, tuple)):
            return [self.value(x, f"{where}[{i}]", lenient, depth) for i, x in enumerate(v)]
        if isinstance(v, (set, frozenset)):
            items = [self.value(x, f"{where} element", lenient, depth) for x in v]
            return {"$set": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
        if isinstance(v, nn.Module):
            return self.module(v, where)
        if isinstance(v, torch.optim.Optimizer):
            return self.optimizer(v, where)
        if _is_scheduler(v):
            return self.scheduler(v, where)
        if callable(v) and (isinstance(v, (types.FunctionType, types.MethodType, functools.partial, type,
                                           types.BuiltinFunctionType))):
            return self.code(v, where)
        if dataclasses.is_dataclass(v):
            return {"$dataclass": f"{type(v).__module__}.{type(v).__qualname__}",
                    "fields": {f.name: self.value(getattr(v, f.name), f"{where}.{f.name}", lenient, depth)
                               for f in dataclasses.fields(v)}}
        if hasattr(v, "__dict__") or hasattr(type(v), "__slots__"):
            blob: dict[str, Any] = {"$object": self.code(type(v), where), "attributes": self.attributes(v, where,
                                                                                                        lenient, depth)}
            return blob
        return self.opaque(v, where) if not lenient else {"$opaque": f"{type(v).__module__}.{type(v).__qualname__}"}

    def attributes(self, obj: Any, where: str, lenient: bool = False, depth: int = 0,
                   skip: Iterable[str] = ()) -> dict[str, Any]:
        names = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
        for slot in getattr(type(obj), "__slots__", ()):
            if hasattr(obj, slot):
                names[slot] = getattr(obj, slot)
        skip = set(skip)
        return {k: self.value(x, f"{where}.{k}", lenient, depth) for k, x in sorted(names.items())
                if k not in skip and not (k.startswith("__") and k.endswith("__"))}

    # -------------------------------------------------------------- torch objects
    def module(self, m: nn.Module, where: str) -> dict[str, Any]:
        """Class, attributes and hooks of every submodule, and every parameter and buffer (also
        non-persistent ones, and which parameters are frozen)."""
        parts = {}
        for name, sub in m.named_modules(remove_duplicate=False):
            at = f"{where}.{name}" if name else where
            parts[name] = {"class": self.code(type(sub), at),
                           "attributes": self.attributes(sub, at, lenient=True, skip=_MODULE_BASE_ATTRIBUTES),
                           "hooks": [self.code(h, f"{at} hook") for hooks in (sub._forward_pre_hooks,
                                                                               sub._forward_hooks)
                                     for h in hooks.values()]}
        return {"$module": parts,
                "parameters": {n: tensor_digest(p) for n, p in m.named_parameters(remove_duplicate=False)},
                "frozen": [n for n, p in m.named_parameters() if not p.requires_grad],
                "buffers": {n: tensor_digest(b) for n, b in m.named_buffers(remove_duplicate=False)}}

    def optimizer(self, opt: torch.optim.Optimizer, where: str, names: Mapping[int, str] | None = None
                  ) -> dict[str, Any]:
        """Class, hyperparameters of every group (with the parameters it holds, by name when the
        model is known), state and any other attribute (e.g. Sophia's ``k``)."""
        groups = []
        for i, group in enumerate(opt.param_groups):
            hyper = {k: self.value(v, f"{where}.param_groups[{i}][{k!r}]") for k, v in group.items() if k != "params"}
            params = [names.get(id(p), list(p.shape)) if names else list(p.shape) for p in group["params"]]
            groups.append({"hyperparameters": hyper, "params": params})
        state = opt.state_dict()["state"]
        return {"$optimizer": self.code(type(opt), where), "groups": groups,
                "state": self.value(state, f"{where}.state", lenient=True),
                "attributes": self.attributes(opt, where, lenient=True, skip=_OPTIMIZER_BASE_ATTRIBUTES)}

    def scheduler(self, s: Any, where: str) -> dict[str, Any]:
        blob = {"$scheduler": self.code(type(s), where),
                "state": self.value(s.state_dict(), f"{where}.state_dict()", lenient=True)}
        lambdas = getattr(s, "lr_lambdas", None)
        if lambdas:
            blob["lr_lambdas"] = [self.code(f, f"{where}.lr_lambdas") for f in lambdas]
        return blob


_MODULE_BASE_ATTRIBUTES = frozenset(vars(nn.Module())) | {"_compiled_call_impl"}


def _optimizer_base_attributes() -> frozenset[str]:
    probe = torch.optim.Optimizer([torch.zeros(1, requires_grad=True)], {})
    return frozenset(vars(probe)) | {"defaults", "state", "param_groups"}


_OPTIMIZER_BASE_ATTRIBUTES = _optimizer_base_attributes()


def _is_scheduler(v: Any) -> bool:
    sched = torch.optim.lr_scheduler
    kinds = tuple(k for k in (getattr(sched, "LRScheduler", None), getattr(sched, "ReduceLROnPlateau", None)) if k)
    return isinstance(v, kinds)


# ------------------------------------------------------------------ public entry points
def describe(value: Any, *, strict: bool = False, where: str = "value") -> Any:
    """``value`` as JSON that identifies it (see the module doc). ``strict``: refuse (with
    :class:`DescribeError` naming where) a value whose content cannot be read, instead of
    marking it ``{"$opaque": type}``."""
    return _Describer(strict).value(value, where)


def code_identity(fn: Any, *, strict: bool = False, where: str = "function") -> Any:
    """How function (class, method, callable object) ``fn`` is identified in a key."""
    return _Describer(strict).code(fn, where)


def describe_optimizer(opt: torch.optim.Optimizer, model: nn.Module | None = None) -> dict[str, Any]:
    """:meth:`_Describer.optimizer` with the parameters named as in ``model``."""
    names = {id(p): n for n, p in model.named_parameters()} if model is not None else None
    return _Describer(False).optimizer(opt, "optimizer", names)


def differences(stored: Any, wanted: Any, where: str = "", limit: int = 6) -> list[str]:
    """Where two descriptions differ, as ``path: stored → wanted`` lines (at most ``limit``)."""
    out: list[str] = []

    def walk(a: Any, b: Any, at: str) -> None:
        if len(out) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if k not in a:
                    out.append(f"{at}.{k}: (absent) → {_short(b[k])}")
                elif k not in b:
                    out.append(f"{at}.{k}: {_short(a[k])} → (absent)")
                else:
                    walk(a[k], b[k], f"{at}.{k}")
            return
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{at}[{i}]")
            return
        out.append(f"{at}: {_short(a)} → {_short(b)}")

    walk(stored, wanted, where)
    return out


def _short(value: Any, width: int = 80) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def environment() -> dict[str, Any]:
    """What besides the code and the inputs decides a result's numbers: the torch and numpy
    versions, the GPU and, on the CPU, the thread count (it changes the order of float sums)."""
    return {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": ".".join(map(str, sys.version_info[:2])),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "threads": torch.get_num_threads(),
    }


__all__ = ["DescribeError", "describe", "code_identity", "describe_optimizer", "differences", "digest",
           "environment", "file_digest", "module_fingerprint", "package_closure", "tensor_digest",
           "NO_NUMBERS"]
