"""A roofline model of eager PyTorch on one GPU, applied op by op while the work runs on the CPU.

No GPU is available on the machines this book is built on, so the `full` profile cannot be
timed where it is sized. What can be measured here is the exact stream of ATen operations a
piece of work issues: every op, its FLOPs (torch's own formulas in
``torch.utils.flop_counter``) and the bytes of its tensor inputs and outputs. A GPU runs that
same stream; eager PyTorch launches one kernel per op, so each op costs at least the launch
and dispatch overhead, and otherwise the larger of its compute time and its memory time:

    t(op) = max(overhead, flops / (peak_flops * compute_eff), bytes / (bandwidth * memory_eff))

plus a host round trip for each ``.item()`` / ``float(tensor)`` (the training loop reads the
loss every step). The efficiencies and the overhead are assumptions, stated in ``GpuSpec``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry


@dataclass(frozen=True)
class GpuSpec:
    """Published peak numbers of a GPU and the (assumed) fractions eager PyTorch reaches."""

    name: str
    peak_flops: float            # FP32 FLOP/s (data sheet)
    bandwidth: float             # device memory bytes/s (data sheet)
    host_to_device: float        # bytes/s over PCIe for a batch copied from the CPU
    compute_efficiency: float = 0.5   # small cuBLAS/cuDNN FP32 kernels reach roughly half of peak
    memory_efficiency: float = 0.7    # elementwise kernels reach most of the bandwidth
    op_overhead: float = 10e-6        # s per op: launch + eager dispatch, on Colab's slow host CPUs
    sync_latency: float = 30e-6       # s per host read of a device scalar (.item())

    def describe(self) -> str:
        return (f"{self.name}: {self.peak_flops / 1e12:.1f} TFLOP/s FP32 × {self.compute_efficiency:.0%}, "
                f"{self.bandwidth / 1e9:.0f} GB/s × {self.memory_efficiency:.0%}, "
                f"{self.op_overhead * 1e6:.0f} µs per op, {self.sync_latency * 1e6:.0f} µs per sync, "
                f"host→device {self.host_to_device / 1e9:.0f} GB/s")


# Colab's free GPU: the slowest "modern GPU" a reader of this book is likely to get.
T4 = GpuSpec("NVIDIA T4", peak_flops=8.1e12, bandwidth=320e9, host_to_device=12e9)
# The same card if the assumptions are too kind: lower efficiencies, twice the per-op cost.
T4_PESSIMISTIC = GpuSpec("NVIDIA T4 (pessimistic)", peak_flops=8.1e12, bandwidth=320e9, host_to_device=12e9,
                         compute_efficiency=0.35, memory_efficiency=0.5, op_overhead=20e-6, sync_latency=60e-6)

# Ops that only read a host scalar: on a GPU each is a device→host round trip.
_SYNC_OPS = {torch.ops.aten._local_scalar_dense.default, torch.ops.aten.item.default}

# Views that torch does not tag as views (they alias their input only as far as autograd knows).
_NO_KERNEL = {torch.ops.aten._unsafe_view.default}

# On the CPU attention runs as the *_for_cpu flash kernels, which torch's table lacks; they do
# the arithmetic of the CUDA flash kernels that the same model runs on the GPU.
_aten = torch.ops.aten
FLOPS = {
    **flop_registry,
    _aten._scaled_dot_product_flash_attention_for_cpu: flop_registry[_aten._scaled_dot_product_flash_attention],
    _aten._scaled_dot_product_flash_attention_for_cpu_backward:
        flop_registry[_aten._scaled_dot_product_flash_attention_backward],
}


@dataclass
class OpTotals:
    """What a piece of work issued, and its predicted GPU seconds under each spec priced."""

    seconds: tuple[float, ...] = ()
    ops: int = 0
    syncs: int = 0
    flops: float = 0.0
    bytes: float = 0.0

    def __sub__(self, other: "OpTotals") -> "OpTotals":
        return OpTotals(tuple(a - b for a, b in zip(self.seconds, other.seconds)), self.ops - other.ops,
                        self.syncs - other.syncs, self.flops - other.flops, self.bytes - other.bytes)

    def scaled(self, factor: float) -> "OpTotals":
        return OpTotals(tuple(t * factor for t in self.seconds), round(self.ops * factor),
                        round(self.syncs * factor), self.flops * factor, self.bytes * factor)


def _tensor_bytes(tree) -> int:
    leaves, _ = tree_flatten(tree)
    return sum(t.numel() * t.element_size() for t in leaves if isinstance(t, torch.Tensor))


def op_seconds(spec: GpuSpec, flops: float, nbytes: float) -> float:
    """The roofline time of one kernel, with the launch floor."""
    return max(spec.op_overhead, flops / (spec.peak_flops * spec.compute_efficiency),
               nbytes / (spec.bandwidth * spec.memory_efficiency))


class GpuCostMode(TorchDispatchMode):
    """Runs every op as usual (on the CPU) and adds its predicted time on each GPU spec to ``totals``."""

    def __init__(self, specs: Sequence[GpuSpec] = (T4,)) -> None:
        super().__init__()
        self.specs = tuple(specs)
        self._seconds = [0.0] * len(self.specs)
        self._counts = OpTotals()

    @property
    def totals(self) -> OpTotals:
        c = self._counts
        return OpTotals(tuple(self._seconds), c.ops, c.syncs, c.flops, c.bytes)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        counts = self._counts
        if func in _SYNC_OPS:
            counts.syncs += 1
            for i, spec in enumerate(self.specs):
                self._seconds[i] += spec.sync_latency
            return out
        if func.is_view or func in _NO_KERNEL:    # a new header over the same memory
            return out
        packet = func.overloadpacket
        flops = float(FLOPS[packet](*args, **kwargs, out_val=out)) if packet in FLOPS else 0.0
        nbytes = _tensor_bytes((args, kwargs, out))
        counts.ops += 1
        counts.flops += flops
        counts.bytes += nbytes
        for i, spec in enumerate(self.specs):
            self._seconds[i] += op_seconds(spec, flops, nbytes)
        return out
