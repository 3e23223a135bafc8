"""Precision of the matrix products: fp32, or bf16 through autocast where the hardware multiplies bf16 natively.

Only the matrix products run in bf16 (torch.autocast); the models hand float32 outputs to the losses, so
losses, the KL term, gradients of the weights and the optimizer state stay float32.
"""

from __future__ import annotations

import contextlib

import torch

from helpers.common.machine import cpu_flags

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of native bf16 dot products / matrix tiles


def native_bf16(device: torch.device) -> bool:
    """Whether device has native bf16 matrix units (a CUDA GPU with bf16, or a CPU with AVX512-BF16 or AMX)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return any(flag in cpu_flags() for flag in BF16_CPU_FLAGS)
    return False


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """The precision a run uses: 'auto' becomes 'bf16' where native_bf16(device), else 'fp32'."""
    if precision == "auto":
        return "bf16" if native_bf16(torch.device(device)) else "fp32"
    return precision


def matmul_precision(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """A context in which matrix products run at a resolved precision ('bf16': autocast; 'fp32': nothing)."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def widened(tensor: torch.Tensor) -> torch.Tensor:
    """A bf16 or fp16 tensor (an autocast output) as float32; float32 and float64 ones as they are."""
    return tensor.float() if tensor.dtype in (torch.bfloat16, torch.float16) else tensor
