"""Precision of the matrix products: fp32, or bf16 through autocast where the hardware multiplies bf16 natively.

A run's precision setting ('fp32', 'bf16' or 'auto') becomes a Numerics once, where the run starts
(``Numerics.of``); the training steps and the IS-NLL take that object and never read the setting again.
Only the matrix products run in bf16 (torch.autocast); the models hand float32 outputs to the losses, so
losses, the KL term, gradients of the weights and the optimizer state stay float32.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch

from helpers.common.machine import cpu_flags

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of native bf16 dot products / matrix tiles


@dataclass(frozen=True)
class Numerics:
    """A resolved precision: its name as runs record it, the dtype the matrix products compute in (None: the
    parameters' own), and the context autograd's steps run the networks in, built once and entered by one block
    at a time (nothing for fp32, bf16 autocast on the run's device)."""

    name: str
    dtype: torch.dtype | None = None
    autocast: contextlib.AbstractContextManager = field(default_factory=contextlib.nullcontext, compare=False)

    @classmethod
    def of(cls, precision: str, device: torch.device | str) -> Numerics:
        """The Numerics of a precision setting on device: 'auto' becomes bf16 where native_bf16(device), else fp32."""
        device = torch.device(device)
        name = ("bf16" if native_bf16(device) else "fp32") if precision == "auto" else precision
        if name == "bf16":
            return cls("bf16", torch.bfloat16, torch.autocast(device.type, dtype=torch.bfloat16))
        if name == "fp32":
            return FP32
        raise ValueError(f"precision must be 'fp32', 'bf16' or 'auto', got {precision!r}")


FP32 = Numerics("fp32")  # products in the parameters' own dtype, no autocast


def native_bf16(device: torch.device) -> bool:
    """Whether device has native bf16 matrix units (a CUDA GPU with bf16, or a CPU with AVX512-BF16 or AMX)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return any(flag in cpu_flags() for flag in BF16_CPU_FLAGS)
    return False


def widened(tensor: torch.Tensor) -> torch.Tensor:
    """A bf16 or fp16 tensor (an autocast output) as float32; float32 and float64 ones as they are."""
    return tensor.float() if tensor.dtype in (torch.bfloat16, torch.float16) else tensor
