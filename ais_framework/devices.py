"""Turning a user's ``--device`` choice into Lightning Trainer arguments.

Accepted: ``auto`` (one CUDA GPU if there is one, else the CPU), ``cpu``, ``cuda`` (every
visible GPU; several run data-parallel with the ``ddp`` strategy), ``cuda:N`` (that GPU)
and ``cuda:N,M,...`` (those GPUs, ddp). CUDA runs in mixed precision (bf16 where the GPU
supports it, else fp16 with loss scaling); the CPU runs in bf16 mixed precision where it
has bf16 hardware (AMX, AVX512-BF16: several times faster), else in float32.

``ddp`` re-launches the running command once per extra GPU (Lightning's subprocess
launcher): fine for a CLI, not for a notebook or the TUI, which should ask for one GPU.
"""
from __future__ import annotations

from typing import NamedTuple

from .errors import UsageError

HINT = "use auto, cpu, cuda, cuda:N or cuda:N,M"


class DeviceChoice(NamedTuple):
    """Trainer arguments: ``Trainer(accelerator=..., devices=..., precision=..., strategy=...)``."""

    accelerator: str
    devices: int | list[int]
    precision: str
    strategy: str


def resolve_device(device: str = "auto") -> DeviceChoice:
    """The Trainer arguments for ``device``; :class:`UsageError` if it cannot be had here."""
    import torch

    name = (device or "auto").strip().lower()
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return DeviceChoice("cpu", 1, "bf16-mixed" if cpu_has_fast_bf16() else "32-true", "auto")
    if name == "auto":
        return _cuda([0])
    if name == "cuda" or name.startswith("cuda:"):
        wanted = _indices(name[5:], device) if name != "cuda" else None
        count = _cuda_count(device)
        wanted = list(range(count)) if wanted is None else wanted
        for index in wanted:
            if index >= count:
                raise UsageError(f"device '{device}': there is no GPU {index} ({count} visible)", HINT)
        return _cuda(wanted)
    raise UsageError(f"unknown device '{device}'", HINT)


def _cuda_count(device: str) -> int:
    import torch

    if not torch.cuda.is_available():
        raise UsageError(f"device '{device}' asked for, but CUDA is not available here",
                         "use --device cpu, or install a CUDA build of PyTorch and check the driver")
    return torch.cuda.device_count()


def _indices(text: str, device: str) -> list[int]:
    try:
        indices = [int(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(f"unknown device '{device}'", HINT) from None
    if not indices or min(indices) < 0 or len(set(indices)) != len(indices):
        raise UsageError(f"unknown device '{device}'", HINT)
    return indices


def _cuda(indices: list[int]) -> DeviceChoice:
    import torch

    precision = "bf16-mixed" if _bf16_native(torch) else "16-mixed"
    strategy = "ddp" if len(indices) > 1 else "auto"
    return DeviceChoice("cuda", indices, precision, strategy)


def _bf16_native(torch) -> bool:
    """bf16 in hardware (Ampere and later); emulated bf16 is slower than fp16."""
    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # older torch without the argument
        return bool(torch.cuda.is_bf16_supported())


def cpu_has_fast_bf16() -> bool:
    """True when this CPU computes bf16 in hardware (AMX or AVX512-BF16, read from /proc/cpuinfo).

    There oneDNN runs bf16 convolutions several times faster than float32; elsewhere bf16
    is emulated and slower, so the CPU stays in float32.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False


def inference_devices(device: str = "auto") -> list[str]:
    """Torch device names for inference: ``auto`` is every visible GPU, else the CPU.

    ``cuda`` is every visible GPU, ``cuda:N`` one, ``cuda:N,M`` several (used in parallel,
    one tomogram per GPU at a time); ``cpu`` the CPU.
    """
    import torch

    name = (device or "auto").strip().lower()
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return ["cpu"]
    if name in ("auto", "cuda"):
        return [f"cuda:{i}" for i in range(_cuda_count(device))]
    if name.startswith("cuda:"):
        count = _cuda_count(device)
        indices = _indices(name[5:], device)
        for index in indices:
            if index >= count:
                raise UsageError(f"device '{device}': there is no GPU {index} ({count} visible)", HINT)
        return [f"cuda:{i}" for i in indices]
    raise UsageError(f"unknown device '{device}'", HINT)


PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def inference_dtype(device: str, precision: str = "auto"):
    """The autocast dtype for inference on ``device`` (None: plain float32).

    ``auto``: fp16 on CUDA, bf16 on a CPU with bf16 hardware, else float32.
    """
    import torch

    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision '{precision}'", f"use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        if device.startswith("cuda"):
            return torch.float16
        return torch.bfloat16 if cpu_has_fast_bf16() else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
